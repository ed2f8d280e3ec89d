/**
 * OIDC token handling: no code yet. Issue 4 adds workload identity with `jose`; its properties go
 * here (arbitrary compact JWS strings, alg `none`/HS256 confusion, wrong issuer or audience, expired
 * and future tokens, oversized and deeply nested claims, seen `jti`, refused `pull_request_target`).
 */
import type { FuzzProperty } from '../harness.ts';

/** Empty until issue 4 lands. */
export const oidcProperties: readonly FuzzProperty[] = [];
