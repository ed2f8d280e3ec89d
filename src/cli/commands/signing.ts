/** `pubgate keys`, `pubgate verify`, `pubgate promote`: signed releases outside the gate. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { PubgateError, UpstreamError, ValidationError } from '../../errors/index.ts';
import { NpmHttpRegistry } from '../../registry/index.ts';
import { inspectTarball } from '../../release/index.ts';
import {
  keySetFromJson,
  RELEASE_PREDICATE_TYPE,
  rotateConfiguredKeyRing,
  verifyRelease,
  type KeyCustodyKind,
  type KeyLookup,
} from '../../signing/index.ts';
import { EXIT } from '../exit-codes.ts';
import { parseDuration, say, sayJson, withApp, withConfigOption } from '../context.ts';

const LIMITS = { unpackedBytes: 1024 * 1024 * 1024, entries: 100_000, manifestBytes: 4 * 1024 * 1024 };

async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: AbortSignal.timeout(60_000),
  });
  if (!response.ok)
    throw new UpstreamError(
      response.status === 404 ? 'ERR_VERIFY_NOT_FOUND' : 'ERR_UPSTREAM_STATUS',
      `${url} answered ${response.status}`,
    );
  return response.json();
}

async function getBytes(url: string): Promise<Buffer> {
  const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!response.ok) throw new UpstreamError('ERR_UPSTREAM_STATUS', `${url} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

function splitSpec(spec: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw new RangeError(`${spec} is not name@version`);
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

function escapeName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}` : encodeURIComponent(name);
}

/** A package version from a registry: its version document and tarball bytes. */
async function fetchFromRegistry(
  registry: string,
  name: string,
  version: string,
): Promise<{ manifest: Record<string, unknown>; tarball: Buffer }> {
  const base = registry.replace(/\/+$/, '');
  const packument = (await getJson(`${base}/${escapeName(name)}`)) as {
    versions?: Record<string, Record<string, unknown>>;
  };
  const manifest = packument.versions?.[version];
  if (manifest === undefined)
    throw new UpstreamError('ERR_VERIFY_NOT_FOUND', `${name}@${version} is not in ${registry}`);
  const url = String((manifest['dist'] as { tarball?: unknown } | undefined)?.tarball ?? '');
  return { manifest, tarball: await getBytes(url) };
}

/** Verifies `tarball` as `name@version` against the gate's attestation and keys. */
async function verifyAgainstGate(gate: string, name: string, version: string, tarball: Buffer) {
  const base = gate.replace(/\/+$/, '');
  const keys: KeyLookup = keySetFromJson(await getJson(`${base}/keys`));
  const attestations = (await getJson(`${base}/-/npm/v1/attestations/${name}@${version}`)) as {
    attestations: Array<{ predicateType?: string; bundle: unknown }>;
  };
  // The gate's own attestation; build provenance may be served beside it.
  const bundle = attestations.attestations.find((a) => a.predicateType === RELEASE_PREDICATE_TYPE)?.bundle;
  if (bundle === undefined)
    throw new ValidationError('ERR_VERIFY_UNSIGNED', `the gate has no attestation for ${name}@${version}`);
  return verifyRelease({ bundle, artifact: tarball, expected: { name, version }, keys });
}

function report(result: Awaited<ReturnType<typeof verifyAgainstGate>>, json: boolean, spec: string): void {
  const summary = {
    verified: true,
    package: spec,
    sha512: result.sha512,
    keyId: result.keyId,
    signedAt: result.signedAt.toISOString(),
    policy: result.predicate.policy,
    requester: result.predicate.requester.identity,
    approvers: result.predicate.approvers.map((a) => a.identity),
  };
  if (json) sayJson(summary);
  else
    say(
      `verified ${spec}: signed by ${result.keyId} at ${summary.signedAt}; ${summary.approvers.length} of ${result.predicate.policy.requiredApprovals} approvals (${summary.approvers.join(', ')}); requester ${summary.requester}`,
    );
}

function fail(error: unknown, json: boolean): void {
  const code = error instanceof PubgateError ? error.code : 'ERR_VERIFY_FAILED';
  const message = error instanceof Error ? error.message : 'verification failed';
  if (json) sayJson({ verified: false, code, error: message });
  else process.stderr.write(`NOT verified: ${code}: ${message}\n`);
  process.exitCode = EXIT.negative;
}

function describeCustody(custody: KeyCustodyKind | undefined): string {
  if (custody === undefined) return 'unknown';
  return custody.kind === 'pkcs11' ? `pkcs11:${custody.label}` : 'local';
}

/** Registers the signing commands. */
export function registerSigningCommands(program: Command): void {
  const keys = program.command('keys').description("The gate's release-signing keys.");
  withConfigOption(
    keys
      .command('list')
      .description('List signing keys with their validity windows.')
      .option('--json', 'print JSON'),
  ).action(async (options: { config?: string; json?: boolean }) => {
    await withApp(options, async (app) => {
      const list = await Promise.all(
        (await app.keyRing.listKeys()).map(async (k) => ({
          ...k,
          custody: await app.keyRing.getCustody(k.keyId),
        })),
      );
      if (options.json === true) sayJson(list);
      else
        for (const k of list)
          say(
            `${k.keyId}  ${describeCustody(k.custody)}  from ${k.notBefore}  until ${k.notAfter ?? '-'}${k.retiredAt === undefined ? '' : `  RETIRED ${k.retiredAt}`}`,
          );
    });
  });
  withConfigOption(
    keys
      .command('rotate')
      .description(
        'Create a new signing key where signing.signer keeps it (sealed locally, or in the PKCS#11 token);\n' +
          'the previous one stays valid for the overlap so verifiers can follow.',
      )
      .option(
        '--overlap <duration>',
        'how long the old key stays valid (e.g. 7d; default signing.rotationOverlapSeconds)',
      )
      .option(
        '--label <label>',
        'pkcs11: CKA_LABEL of the new key pair (default <keyLabel>-<UTC time>); a pair the token already holds under it is used',
      ),
  ).action(async (options: { config?: string; overlap?: string; label?: string }) => {
    await withApp(options, async (app) => {
      const overlapSeconds =
        options.overlap === undefined
          ? app.config.signing.rotationOverlapSeconds
          : parseDuration(options.overlap);
      const { current, previous } = await rotateConfiguredKeyRing({
        settings: app.config.signing,
        ring: app.keyRing,
        overlapMs: overlapSeconds * 1000,
        ...(options.label === undefined ? {} : { label: options.label }),
      });
      const custody = await app.keyRing.getCustody(current.keyId);
      await app.audit.append({
        actor: 'cli:admin',
        action: 'keys.rotated',
        subject: `key:${current.keyId}`,
        data: {
          previous: previous.map((p) => p.keyId),
          overlapSeconds,
          custody: describeCustody(custody),
        },
      });
      say(
        `new signing key ${current.keyId} (${describeCustody(custody)}); ${previous.length} previous key(s) valid until ${previous.map((p) => p.notAfter).join(', ') || '-'}`,
      );
    });
  });

  withConfigOption(
    keys
      .command('retire')
      .description(
        'Withdraw a signing key (e.g. compromised): from then on nothing it signed verifies, whenever it\n' +
          "claims to have been signed, and it leaves npm's key list. Rotate first: the current key cannot be retired.",
      )
      .argument('<keyId>', 'the key id, as `pubgate keys list` shows it (SHA256:...)')
      .option('--reattest', 'sign every attestation this key made again with the current key'),
  ).action(async (keyId: string, options: { config?: string; reattest?: boolean }) => {
    await withApp(options, async (app) => {
      const key = (await app.keyRing.listKeys()).find((k) => k.keyId === keyId);
      if (key === undefined)
        throw new ValidationError(
          'ERR_KEYS_UNKNOWN',
          `no signing key ${keyId.slice(0, 80)}; see \`pubgate keys list\``,
        );
      if (key.notAfter === null && key.retiredAt === undefined)
        throw new ValidationError(
          'ERR_KEYS_CURRENT',
          `${keyId} is the current signing key; run \`pubgate keys rotate --overlap 0s\` first, then retire it`,
        );
      const retired = await app.keyRing.retire(keyId);
      await app.audit.append({
        actor: 'cli:admin',
        action: 'keys.retired',
        subject: `key:${keyId}`,
        data: { retiredAt: retired.retiredAt },
      });
      say(`retired ${keyId} at ${retired.retiredAt}`);
      if (options.reattest === true) {
        const done = await app.attestations.reattestSignedBy(keyId, 'cli:admin', (id) =>
          app.releases.get(id),
        );
        say(`re-attested ${done.length} release(s) with the current key`);
      }
    });
  });

  program
    .command('verify')
    .description(
      "Verify a release before promotion or deployment: the digest, the gate's attestation signature against the key valid at signing\n" +
        'time, and the policy that applied (quorum met, requester not an approver). Exit 0 when it verifies, 1 when it does not.',
    )
    .argument('<target>', 'a .tgz file, or name@version')
    .requiredOption('-g, --gate <url>', 'the pubgate that attested the release')
    .option('-r, --registry <url>', "where to fetch name@version from (default: the gate's /npm/)")
    .option('--json', 'print JSON')
    .action(async (target: string, options: { gate: string; registry?: string; json?: boolean }) => {
      const json = options.json === true;
      try {
        let name: string;
        let version: string;
        let tarball: Buffer;
        if (target.endsWith('.tgz')) {
          tarball = readFileSync(target);
          const inspected = await inspectTarball(tarball, LIMITS);
          name = String(inspected.packageJson['name']);
          version = String(inspected.packageJson['version']);
        } else {
          ({ name, version } = splitSpec(target));
          tarball = (
            await fetchFromRegistry(
              options.registry ?? `${options.gate.replace(/\/+$/, '')}/npm/`,
              name,
              version,
            )
          ).tarball;
        }
        report(await verifyAgainstGate(options.gate, name, version, tarball), json, `${name}@${version}`);
      } catch (error) {
        fail(error, json);
      }
    });

  program
    .command('promote')
    .description(
      'Copy a release from one registry to another only if it verifies against the gate at this moment.',
    )
    .argument('<spec>', 'name@version')
    .requiredOption('--from <registry>', 'source registry URL')
    .requiredOption('--to <registry>', 'target registry URL')
    .requiredOption('-g, --gate <url>', 'the pubgate that attested the release')
    .option(
      '--token-file <path>',
      "file holding the target registry's publish token (else $PUBGATE_PROMOTE_TOKEN)",
    )
    .option('--json', 'print JSON')
    .action(
      async (
        spec: string,
        options: { from: string; to: string; gate: string; tokenFile?: string; json?: boolean },
      ) => {
        const json = options.json === true;
        const { name, version } = splitSpec(spec);
        let fetched;
        let verified;
        try {
          fetched = await fetchFromRegistry(options.from, name, version);
          verified = await verifyAgainstGate(options.gate, name, version, fetched.tarball);
        } catch (error) {
          fail(error, json);
          return;
        }
        const token =
          options.tokenFile === undefined
            ? process.env['PUBGATE_PROMOTE_TOKEN']
            : readFileSync(options.tokenFile, 'utf8').trim();
        const target = new NpmHttpRegistry({
          url: options.to.replace(/\/+$/, ''),
          timeoutMs: 120_000,
          credential: () => Promise.resolve(token),
        });
        const integrity = `sha512-${Buffer.from(verified.sha512, 'hex').toString('base64')}`;
        // The version document as the source has it, with dist rebuilt from the verified bytes.
        const manifest = {
          ...fetched.manifest,
          dist: { integrity, shasum: createHash('sha1').update(fetched.tarball).digest('hex') },
        };
        const outcome = await target.publish({
          name,
          version,
          tag: 'latest',
          access: null,
          manifest,
          tarball: fetched.tarball,
          integrity,
        });
        if (json) sayJson({ promoted: true, package: spec, outcome, to: options.to });
        else say(`promoted ${spec} to ${options.to} (${outcome}); verified signature ${verified.keyId}`);
      },
    );
}
