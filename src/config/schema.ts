/**
 * The one configuration schema. Every field has a default and a description; the config reference
 * (docs/config.md) is generated from this schema and a test keeps the two equal.
 */
import { z } from 'zod';
import type { TrustedPublisherConfig } from '../identity/oidc/index.ts';

const MB = 1024 * 1024;

/** Default values, exported for docs and tests; never mutated. */
export const DEFAULTS = Object.freeze({
  dataDir: './pubgate-data',
  host: '127.0.0.1',
  port: 8470,
  tarballBytes: 100 * MB,
  manifestBytes: 1 * MB,
  jsonDepth: 64,
  unpackedBytes: 1024 * MB,
  entries: 50_000,
  pendingTtlSeconds: 24 * 60 * 60,
  upstreamTimeoutMs: 60_000,
  publishMaxAttempts: 8,
  leaseSeconds: 120,
  workerIntervalMs: 1_000,
});

const portSchema = z.number().int().min(0).max(65535);

/** The configuration file schema (YAML or JSON). */
export const configSchema = z
  .object({
    dataDir: z
      .string()
      .min(1)
      .default(DEFAULTS.dataDir)
      .describe('Folder for the SQLite database, blobs and the master key. Relative to the config file.'),
    masterKeyFile: z
      .string()
      .min(1)
      .optional()
      .describe('Master key file (32 random bytes, base64, mode 0600). Default: <dataDir>/master.key.'),
    server: z
      .object({
        host: z.string().min(1).default(DEFAULTS.host).describe('Address to listen on.'),
        port: portSchema.default(DEFAULTS.port).describe('TCP port to listen on; 0 picks a free port.'),
        publicUrl: z
          .url()
          .optional()
          .describe(
            'URL clients use to reach the gate (behind a proxy or TLS terminator). Default: http://host:port.',
          ),
      })
      .strict()
      .default({ host: DEFAULTS.host, port: DEFAULTS.port })
      .describe('HTTP listener.'),
    store: z
      .object({
        driver: z.enum(['sqlite', 'postgres']).default('sqlite').describe('Database backend.'),
        sqlitePath: z.string().min(1).optional().describe('SQLite file. Default: <dataDir>/pubgate.sqlite.'),
        postgresUrl: z
          .string()
          .min(1)
          .optional()
          .describe(
            'PostgreSQL connection string (postgres://user@host:port/db). Required when driver is postgres.',
          ),
        poolSize: z.number().int().min(1).max(200).default(10).describe('PostgreSQL connection pool size.'),
      })
      .strict()
      .default({ driver: 'sqlite', poolSize: 10 })
      .describe('Where releases, credentials, sealed secrets and the audit log live.'),
    upstream: z
      .object({
        url: z
          .url()
          .optional()
          .describe(
            'npm registry that released packages are published to and reads are proxied from. ' +
              "Unset: packages are served from pubgate's own storage.",
          ),
        timeoutMs: z
          .number()
          .int()
          .min(1000)
          .default(DEFAULTS.upstreamTimeoutMs)
          .describe('Timeout of one upstream request.'),
        authenticateReads: z
          .boolean()
          .default(false)
          .describe(
            'Send the sealed credential on reads too (a private upstream). By default it goes only with publishes.',
          ),
        sigstoreAttachment: z
          .enum(['auto', 'build-provenance', 'release-attestation', 'none'])
          .default('auto')
          .describe(
            'Which `<name>-<version>.sigstore` attachment goes upstream with a release: the build provenance that came ' +
              "with it (registry.npmjs.org verifies and keeps it), the gate's release attestation (for registries that " +
              'store any Sigstore bundle), or none (Verdaccio 6 refuses a publish with two attachments). ' +
              'auto: build-provenance for registry.npmjs.org, none elsewhere.',
          ),
      })
      .strict()
      .default({
        timeoutMs: DEFAULTS.upstreamTimeoutMs,
        authenticateReads: false,
        sigstoreAttachment: 'auto',
      })
      .describe(
        'The registry behind the gate. Its publish credential is sealed in the store (`pubgate upstream set-token`).',
      ),
    limits: z
      .object({
        tarballBytes: z
          .number()
          .int()
          .min(1024)
          .default(DEFAULTS.tarballBytes)
          .describe('Largest accepted package tarball.'),
        manifestBytes: z
          .number()
          .int()
          .min(1024)
          .default(DEFAULTS.manifestBytes)
          .describe('Largest publish document, not counting the base64 tarball.'),
        jsonDepth: z
          .number()
          .int()
          .min(8)
          .max(1000)
          .default(DEFAULTS.jsonDepth)
          .describe('Deepest JSON nesting accepted.'),
        unpackedBytes: z
          .number()
          .int()
          .min(1024)
          .default(DEFAULTS.unpackedBytes)
          .describe("Largest total size of a tarball's files once unpacked (stops gzip bombs)."),
        entries: z.number().int().min(1).default(DEFAULTS.entries).describe('Most entries in one tarball.'),
      })
      .strict()
      .default({
        tarballBytes: DEFAULTS.tarballBytes,
        manifestBytes: DEFAULTS.manifestBytes,
        jsonDepth: DEFAULTS.jsonDepth,
        unpackedBytes: DEFAULTS.unpackedBytes,
        entries: DEFAULTS.entries,
      })
      .describe('Bounds on every received package.'),
    release: z
      .object({
        pendingTtlSeconds: z
          .number()
          .int()
          .min(60)
          .default(DEFAULTS.pendingTtlSeconds)
          .describe('A release not approved within this time expires.'),
        publishMaxAttempts: z
          .number()
          .int()
          .min(1)
          .max(100)
          .default(DEFAULTS.publishMaxAttempts)
          .describe('Upstream publish attempts before a release fails.'),
        leaseSeconds: z
          .number()
          .int()
          .min(5)
          .default(DEFAULTS.leaseSeconds)
          .describe('How long an instance owns a publish before another may take it over.'),
        jitTtlSeconds: z
          .number()
          .int()
          .min(30)
          .max(900)
          .default(300)
          .describe(
            'Lifetime of a just-in-time publish credential (single use, bound to package@version+digest).',
          ),
        workerIntervalMs: z
          .number()
          .int()
          .min(50)
          .default(DEFAULTS.workerIntervalMs)
          .describe('How often background work (publishing, expiry) runs.'),
      })
      .strict()
      .default({
        pendingTtlSeconds: DEFAULTS.pendingTtlSeconds,
        publishMaxAttempts: DEFAULTS.publishMaxAttempts,
        leaseSeconds: DEFAULTS.leaseSeconds,
        jitTtlSeconds: 300,
        workerIntervalMs: DEFAULTS.workerIntervalMs,
      })
      .describe('The release state machine.'),
    webauthn: z
      .object({
        rpId: z
          .string()
          .min(1)
          .optional()
          .describe(
            'WebAuthn relying party id (a domain, never an IP address). Default: the host of server.publicUrl, else localhost.',
          ),
        rpName: z.string().min(1).default('pubgate').describe('Name shown by authenticators.'),
        challengeTtlSeconds: z
          .number()
          .int()
          .min(30)
          .max(900)
          .default(300)
          .describe('How long a passkey challenge (sign-in, step-up, approval) stays valid.'),
        sessionIdleSeconds: z
          .number()
          .int()
          .min(60)
          .default(900)
          .describe('A web session ends after this long without use.'),
        sessionMaxSeconds: z
          .number()
          .int()
          .min(300)
          .default(43_200)
          .describe('A web session ends this long after sign-in, used or not.'),
        enrolmentTtlSeconds: z
          .number()
          .int()
          .min(60)
          .max(7 * 86_400)
          .default(900)
          .describe('How long an enrolment or invitation link works (once).'),
      })
      .strict()
      .default({
        rpName: 'pubgate',
        challengeTtlSeconds: 300,
        sessionIdleSeconds: 900,
        sessionMaxSeconds: 43_200,
        enrolmentTtlSeconds: 900,
      })
      .describe('Passkeys (WebAuthn): the only way people sign in and approve.'),
    policy: z
      .object({
        approvers: z
          .number()
          .int()
          .min(1)
          .max(20)
          .default(1)
          .describe('Default M: distinct approvals a release needs (the requester never counts).'),
        group: z.string().min(1).default('approvers').describe('Default approver group.'),
        installScripts: z
          .enum(['allow', 'require-extra', 'block'])
          .default('require-extra')
          .describe(
            'When a release adds or changes preinstall/install/postinstall/prepare: allow, require one more approver, or block.',
          ),
        adminsMayApprove: z
          .boolean()
          .default(false)
          .describe('Whether admins may approve (separation of duties says no).'),
        publishMode: z
          .enum(['gate', 'jit'])
          .default('gate')
          .describe(
            'After approval, the gate publishes (gate), or waits for the pipeline to publish once with a just-in-time credential (jit).',
          ),
        secrets: z
          .enum(['block', 'warn'])
          .default('block')
          .describe('A secret found in a tarball blocks the release, or is shown to approvers as a warning.'),
        provenance: z
          .enum(['optional', 'require'])
          .default('optional')
          .describe(
            'Build provenance (the `<name>-<version>.sigstore` attachment of `npm publish --provenance` or ' +
              '`--provenance-file`, or a DSSE statement signed by a registered build key): when present it is always ' +
              'verified; require refuses releases without it.',
          ),
        rules: z
          .array(
            z
              .object({
                packages: z
                  .array(z.string().min(1))
                  .min(1)
                  .describe('Package patterns: name, @scope/name, @scope/*, *.'),
                approvers: z.number().int().min(1).max(20).optional(),
                group: z.string().min(1).optional(),
                installScripts: z.enum(['allow', 'require-extra', 'block']).optional(),
                publishMode: z.enum(['gate', 'jit']).optional(),
                provenance: z.enum(['optional', 'require']).optional(),
                exposure: z
                  .array(
                    z
                      .object({
                        weeklyDownloadsAbove: z.number().int().min(0),
                        approvers: z.number().int().min(1).max(20),
                      })
                      .strict(),
                  )
                  .default([]),
              })
              .strict(),
          )
          .default([])
          .describe(
            'Per-package rules; the first whose pattern matches applies. Exposure tiers raise M by weekly downloads.',
          ),
        weeklyDownloads: z
          .record(z.string(), z.number().int().min(0))
          .default({})
          .describe(
            'Exposure set by hand: weekly downloads per package (used when the upstream has no download counts).',
          ),
        downloadsUrl: z
          .url()
          .optional()
          .describe(
            'npm download-counts API base (e.g. https://api.npmjs.org); `<url>/downloads/point/last-week/<pkg>` is asked at hold time.',
          ),
      })
      .strict()
      .default({
        approvers: 1,
        group: 'approvers',
        installScripts: 'require-extra',
        adminsMayApprove: false,
        publishMode: 'gate',
        secrets: 'block',
        provenance: 'optional',
        rules: [],
        weeklyDownloads: {},
      })
      .describe('Release policy: who approves, how many, and when exposure or install scripts ask for more.'),
    provenance: z
      .object({
        trustedCertificates: z
          .array(z.string().min(1))
          .default([])
          .describe(
            'PEM files of the certificate authorities that issue build signing certificates (e.g. Fulcio root and ' +
              'intermediate). Set: a provenance certificate must chain to one of them. Relative to the config file.',
          ),
        requireCertificateChain: z
          .boolean()
          .default(false)
          .describe(
            'Refuse certificate-signed provenance unless its chain verifies against trustedCertificates. Without it the ' +
              "certificate's identity is checked against the trusted publisher and the gate's own OIDC evidence only.",
          ),
      })
      .strict()
      .default({ trustedCertificates: [], requireCertificateChain: false })
      .describe(
        'How build provenance is verified (offline: no Rekor or Fulcio is contacted). Build keys for DSSE-signed ' +
          'statements are registered per trusted publisher (`buildKeys`).',
      ),
    signing: z
      .object({
        signer: z
          .enum(['local', 'pkcs11'])
          .default('local')
          .describe(
            'Who holds the release-signing key: local (generated by the gate, sealed under the master key) or ' +
              'pkcs11 (an HSM, or a cloud KMS with a PKCS#11 front; the key never leaves it).',
          ),
        rotationOverlapSeconds: z
          .number()
          .int()
          .min(0)
          .default(7 * 86_400)
          .describe('After `pubgate keys rotate`, how long the previous key stays valid beside the new one.'),
        pkcs11: z
          .object({
            modulePath: z
              .string()
              .min(1)
              .describe("The vendor's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so."),
            tokenLabel: z
              .string()
              .min(1)
              .optional()
              .describe(
                'Label of the token holding the key (preferred over slotIndex: slot ids can change).',
              ),
            slotIndex: z
              .number()
              .int()
              .min(0)
              .optional()
              .describe('Index among slots with a token, used when no tokenLabel is given.'),
            pinFile: z
              .string()
              .min(1)
              .optional()
              .describe('File whose first line is the user PIN (never put the PIN in this file).'),
            pinEnv: z
              .string()
              .min(1)
              .optional()
              .describe('Environment variable holding the user PIN, when there is no pinFile.'),
            keyLabel: z
              .string()
              .min(1)
              .default('pubgate-signing')
              .describe(
                'CKA_LABEL of the EC P-256 key pair used first; created in the token when absent. Rotation creates <keyLabel>-<time>.',
              ),
          })
          .strict()
          .optional()
          .describe('The PKCS#11 token, when signer is pkcs11.'),
      })
      .strict()
      .default({ signer: 'local', rotationOverlapSeconds: 7 * 86_400 })
      .describe('The key that signs release attestations.'),
    trustedPublishers: z
      .array(z.record(z.string(), z.unknown()))
      .default([])
      .describe(
        'CI identities that may stage packages with no stored secret (OIDC trusted publishing): ' +
          '{packages, provider: github|gitlab|generic, issuer, audience, claims, allowSelfHosted, buildKeys}. See docs/trusted-publishing.md.',
      ),
    oidc: z
      .object({
        allowInsecureLoopbackIssuers: z
          .boolean()
          .default(false)
          .describe('Accept http:// issuers on 127.0.0.1/localhost (tests only).'),
        jwksUris: z
          .record(z.string(), z.url())
          .default({})
          .describe('Key set URL per issuer, instead of OIDC discovery.'),
        maxLifetimeSeconds: z
          .number()
          .int()
          .min(60)
          .max(86_400)
          .default(3600)
          .describe('Longest accepted ID-token lifetime (exp − iat).'),
        credentialTtlSeconds: z
          .number()
          .int()
          .min(60)
          .max(900)
          .default(900)
          .describe('Lifetime of the build credential an exchange mints (at most 15 minutes).'),
      })
      .strict()
      .default({
        allowInsecureLoopbackIssuers: false,
        jwksUris: {},
        maxLifetimeSeconds: 3600,
        credentialTtlSeconds: 900,
      })
      .describe('How OIDC ID tokens from CI are checked.'),
    log: z
      .object({
        level: z
          .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
          .default('info')
          .describe('Log level of the JSON logs on stdout.'),
      })
      .strict()
      .default({ level: 'info' })
      .describe('Structured logs. Secrets are never logged.'),
  })
  .strict();

/** The parsed file, before paths are resolved. */
export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;

/** The frozen, fully resolved configuration every part of pubgate receives. */
export interface Config {
  readonly configFile: string | undefined;
  readonly dataDir: string;
  readonly masterKeyFile: string;
  readonly server: Readonly<Parsed['server']> & { readonly publicUrl: string | undefined };
  readonly store: Readonly<Parsed['store']> & { readonly sqlitePath: string };
  readonly upstream: Readonly<Parsed['upstream']>;
  readonly limits: Readonly<Parsed['limits']>;
  readonly release: Readonly<Parsed['release']>;
  readonly webauthn: Readonly<Parsed['webauthn']>;
  readonly policy: Readonly<Parsed['policy']>;
  readonly provenance: Readonly<Parsed['provenance']>;
  readonly signing: Readonly<Parsed['signing']>;
  readonly trustedPublishers: readonly TrustedPublisherConfig[];
  readonly oidc: Readonly<Parsed['oidc']>;
  readonly log: Readonly<Parsed['log']>;
}
