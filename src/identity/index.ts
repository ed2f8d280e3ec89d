/** Humans: passkey-only accounts, roles, enrolment, sessions, and the WebAuthn ceremonies. */
export { PeopleService, ROLES } from './people.ts';
export type { Person, Role, PasskeyInfo, PeopleServiceOptions } from './people.ts';
export { ChallengeService } from './challenges.ts';
export type { ChallengePurpose, ConsumedChallenge } from './challenges.ts';
export { SessionService } from './sessions.ts';
export type { Session } from './sessions.ts';
export type { RelyingParty } from './webauthn.ts';
export { SqlJtiStore } from './sql-jti-store.ts';
export {
  verifyWorkloadToken,
  validateTrustedPublishers,
  RemoteJwksProvider,
  GITHUB_ACTIONS_ISSUER,
} from './oidc/index.ts';
export type { WorkloadIdentity, TrustedPublisherConfig, JwksProvider, JtiStore } from './oidc/index.ts';
export { PublisherRegistry } from './publisher-registry.ts';
export type { ListedPublisher } from './publisher-registry.ts';
