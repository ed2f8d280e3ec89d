/**
 * Schema migrations, written once for both backends. Kysely's Migrator records them in
 * `kysely_migration` and takes a lock table, so two instances starting at once run each migration once.
 */
import { sql, type Kysely, type Migration } from 'kysely';

const ACTIVE_STATES_SQL = "state not in ('rejected', 'expired', 'failed')";

/** Every migration, by name; names sort in order of application. */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('releases')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('package', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('integrity', 'text', (c) => c.notNull())
        .addColumn('shasum', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addColumn('channel', 'text', (c) => c.notNull())
        .addColumn('requester_kind', 'text', (c) => c.notNull())
        .addColumn('requester_id', 'text', (c) => c.notNull())
        .addColumn('manifest', 'text', (c) => c.notNull())
        .addColumn('checks', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('published_at', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('completion_hash', 'text')
        .execute();
      // One live release per package@version, enforced by the database so that concurrent
      // publishes on any number of instances cannot both be accepted.
      await sql`create unique index releases_active_version on releases (package, version) where ${sql.raw(ACTIVE_STATES_SQL)}`.execute(
        db,
      );
      await db.schema
        .createIndex('releases_state')
        .on('releases')
        .columns(['state', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('releases_package')
        .on('releases')
        .columns(['package', 'created_at'])
        .execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_events_subject')
        .on('audit_events')
        .columns(['subject', 'seq'])
        .execute();

      await db.schema
        .createTable('credentials')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('uses', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_uses', 'integer')
        .execute();

      await db.schema
        .createTable('vault_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('sealed', 'text', (c) => c.notNull())
        .addColumn('master_key_id', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('local_packages')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('packument', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002_people_and_approvals': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('groups', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'text')
        .execute();
      await db.schema
        .createTable('passkeys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('passkeys_user').on('passkeys').column('user_id').execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('webauthn_challenges')
        .addColumn('challenge', 'text', (c) => c.primaryKey())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('subject', 'text')
        .addColumn('binding', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema
        .createTable('enrolments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text')
        .addColumn('roles', 'text', (c) => c.notNull())
        .addColumn('groups', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema
        .createTable('approvals')
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull())
        .addColumn('decision', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text', (c) => c.notNull())
        .addColumn('assertion_sha256', 'text', (c) => c.notNull())
        .addColumn('challenge', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        // One decision per person per release: the same approver twice counts once.
        .addPrimaryKeyConstraint('approvals_pk', ['release_id', 'user_id'])
        .execute();
      await db.schema
        .alterTable('releases')
        .addColumn('required_approvals', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db.schema
        .alterTable('releases')
        .addColumn('approver_group', 'text', (c) => c.notNull().defaultTo('approvers'))
        .execute();
      await db.schema
        .alterTable('releases')
        .addColumn('policy', 'text', (c) => c.notNull().defaultTo('{}'))
        .execute();
      await db.schema.alterTable('releases').addColumn('requester_verified_at', 'text').execute();
    },
  },
  '0003_workloads_scans_lockdowns': {
    async up(db: Kysely<unknown>): Promise<void> {
      // JIT credentials: what one use is bound to ({action, package, version, integrity}); workload role.
      await db.schema.alterTable('credentials').addColumn('binding', 'text').execute();
      await db.schema.alterTable('credentials').addColumn('role', 'text').execute();
      // The workload's OIDC claims (secret-free subset) for credentials minted by an exchange.
      await db.schema.alterTable('credentials').addColumn('claims', 'text').execute();
      // `gate`: the gate publishes on approval; `jit`: it waits for the pipeline's single-use credential.
      await db.schema
        .alterTable('releases')
        .addColumn('publish_mode', 'text', (c) => c.notNull().defaultTo('gate'))
        .execute();
      await db.schema
        .createTable('oidc_jtis')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('oidc_jtis_pk', ['issuer', 'jti'])
        .execute();
      await db.schema
        .createTable('lockdowns')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('lifted_at', 'text')
        .addColumn('lifted_by', 'text')
        .execute();
      await db.schema
        .createTable('secret_sightings')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('line', 'integer', (c) => c.notNull())
        .addColumn('host', 'text', (c) => c.notNull())
        .addColumn('context', 'text', (c) => c.notNull())
        .addColumn('reporter', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('secret_sightings_fp')
        .on('secret_sightings')
        .column('fingerprint')
        .execute();
      await db.schema
        .createTable('release_evidence')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('release_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('identity', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('release_evidence_release')
        .on('release_evidence')
        .column('release_id')
        .execute();
    },
  },
  '0004_trusted_publishers': {
    async up(db: Kysely<unknown>): Promise<void> {
      // Trusted publishers added by admins through the API/UI (config ones live in the config file).
      await db.schema
        .createTable('trusted_publishers')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('removed_at', 'text')
        .execute();
    },
  },
  '0005_signing': {
    async up(db: Kysely<unknown>): Promise<void> {
      // The gate's signing keys (private parts sealed under the master key, or held in an HSM).
      await db.schema
        .createTable('signing_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('stored', 'text', (c) => c.notNull())
        .execute();
      // One signed release attestation (a Sigstore bundle) per release.
      await db.schema
        .createTable('attestations')
        .addColumn('release_id', 'text', (c) => c.primaryKey())
        .addColumn('package', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('bundle', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('attestations_package')
        .on('attestations')
        .columns(['package', 'version'])
        .execute();
    },
  },
  '0006_registry_signatures': {
    async up(db: Kysely<unknown>): Promise<void> {
      // npm's registry signature ({keyid, sig} over `<name>@<version>:<integrity>`), made with the attestation.
      await db.schema.alterTable('attestations').addColumn('registry_signature', 'text').execute();
    },
  },
});
