/** State shared by the analysers during one audit. */
import type { AuditConfig } from './config.ts';
import type { FindingCollector } from './finding-collector.ts';
import type { RepoFiles } from './repo-files.ts';
import type { SourceLocation } from './types.ts';

/** A reference to a registry credential by name (for the shared-credential rule). */
export interface CredentialUse {
  readonly name: string;
  readonly file: string;
  readonly repoRoot: string;
  readonly location: SourceLocation;
}

/** What every analyser gets. */
export interface AuditContext {
  readonly repo: RepoFiles;
  readonly config: AuditConfig;
  readonly findings: FindingCollector;
  /** Script units (`file#script`, `Makefile#target`, `script.sh#`) reached from CI. */
  readonly reached: Set<string>;
  readonly credentialUses: CredentialUse[];
}
