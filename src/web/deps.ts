/** What the web layer needs, built in src/app.ts. */
import type { Logger } from 'pino';
import type { ApprovalService } from '../approval/index.ts';
import type { AuditLog } from '../auditlog/index.ts';
import type {
  JtiStore,
  JwksProvider,
  PeopleService,
  PublisherRegistry,
  SessionService,
} from '../identity/index.ts';
import type { SightingService } from '../sightings/index.ts';
import type { LockdownService } from '../lockdown/index.ts';
import type { AttestationService, BlobStore, PublishLimits, ReleaseService } from '../release/index.ts';
import type { PolicyConfig } from '../policy/index.ts';
import type { Registry } from '../registry/index.ts';
import type { Store } from '../store/index.ts';
import type { CredentialService } from '../tokens/index.ts';

/** The web layer's dependencies. */
export interface WebDeps {
  readonly store: Store;
  readonly releases: ReleaseService;
  readonly credentials: CredentialService;
  readonly registry: Registry;
  readonly blobs: BlobStore;
  readonly limits: PublishLimits;
  readonly logger: Logger;
  /** The gate's external base URL, without a trailing slash. */
  readonly baseUrl: () => string;
  /** Prometheus text for /metrics. */
  readonly metrics: () => Promise<string>;
  readonly audit: AuditLog;
  readonly people: PeopleService;
  readonly sessions: SessionService;
  readonly approvals: ApprovalService;
  readonly sightings: SightingService;
  readonly lockdown: LockdownService;
  /** Lifetime of just-in-time publish credentials (at most 5 minutes by default). */
  readonly jitTtlSeconds: number;
  readonly publishers: PublisherRegistry;
  readonly attestations: AttestationService;
  /** The release policy (the inventory reads who may approve and which packages are protected). */
  readonly policy: PolicyConfig;
  readonly jwks: JwksProvider;
  readonly jtiStore: JtiStore;
  readonly oidcMaxLifetimeSeconds: number;
  readonly buildCredentialTtlSeconds: number;
}
