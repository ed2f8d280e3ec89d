/**
 * The compliance report model: for the gate and for each protected package, which controls are
 * enforced, with evidence (audit event seq + hash, linked as `/ui/audit#seq-<n>`), the findings,
 * the framework mapping, and the series the charts draw.
 */
import { RELEASE_STATES } from '../release/index.ts';
import { collectInventory, type InventorySource } from './collect.ts';
import { assertValidControlMappings, CONTROLS, type Control } from './controls.ts';
import type { ExternalImport } from './external.ts';
import { detectFindings, patternsOverlap } from './findings.ts';
import { FRAMEWORKS, titleOfControlId, type FrameworkId } from './frameworks.ts';
import { DEFAULT_INVENTORY_OPTIONS, type InventoryOptions } from './options.ts';
import { SEVERITIES, type Finding, type Inventory, type Severity } from './types.ts';

/** A link to one audit event. */
export interface Evidence {
  readonly seq: number;
  readonly hash: string;
  readonly action: string;
  readonly at: string;
  /** Path of the event in the web UI's audit log. */
  readonly href: string;
}

/** How a control stands. */
export type ControlStatus = 'enforced' | 'violated' | 'not-configured' | 'not-wired';

/** One control, judged. */
export interface ControlResult {
  readonly control: string;
  readonly title: string;
  readonly status: ControlStatus;
  readonly detail: string;
  readonly findings: readonly string[];
  readonly evidence: readonly Evidence[];
  /** All matching events, of which `evidence` lists the newest. */
  readonly evidenceCount: number;
  readonly mappings: ReadonlyArray<{ readonly framework: FrameworkId; readonly id: string }>;
}

/** One row of the mapping table. */
export interface MappingRow {
  readonly control: string;
  readonly framework: FrameworkId;
  readonly frameworkName: string;
  readonly id: string;
  readonly title: string;
}

/** The series the HTML report draws. */
export interface ReportCharts {
  readonly approvalLatency: ReadonlyArray<{
    readonly release: string;
    readonly label: string;
    readonly seconds: number;
  }>;
  readonly credentialLifetimes: ReadonlyArray<{
    readonly id: string;
    readonly label: string;
    readonly seconds: number | null;
  }>;
  readonly findingsOverTime: ReadonlyArray<{
    readonly day: string;
    readonly total: number;
    readonly high: number;
  }>;
  readonly releasesByState: ReadonlyArray<{
    readonly package: string;
    readonly counts: Readonly<Record<string, number>>;
  }>;
}

/** The whole report. */
export interface ComplianceReport {
  readonly generatedAt: string;
  readonly options: InventoryOptions;
  readonly summary: {
    readonly identities: number;
    readonly credentials: number;
    readonly liveCredentials: number;
    readonly findings: Readonly<Record<Severity, number>>;
    readonly controlsEnforced: number;
    readonly controls: number;
    readonly auditChain: { readonly ok: boolean; readonly events: number; readonly headHash: string | null };
  };
  readonly controls: readonly ControlResult[];
  readonly packages: ReadonlyArray<{
    readonly name: string;
    readonly releases: Readonly<Record<string, number>>;
    readonly controls: readonly ControlResult[];
  }>;
  readonly findings: readonly Finding[];
  readonly mapping: readonly MappingRow[];
  readonly charts: ReportCharts;
  readonly inventory: Inventory;
  readonly notes: readonly string[];
}

/** Options of {@link generateComplianceReport}. */
export interface GenerateReportOptions {
  readonly imports?: readonly ExternalImport[];
  readonly options?: Partial<InventoryOptions>;
  readonly now?: Date;
  /** Newest evidence events listed per control (default 5). */
  readonly evidencePerControl?: number;
}

const EVIDENCE_KEEP = 50;

interface EventIndex {
  /** action → newest events (any package). */
  readonly byAction: Map<string, Evidence[]>;
  /** `${action}\u0000${package}` → newest events. */
  readonly byActionPackage: Map<string, Evidence[]>;
  readonly counts: Map<string, number>;
  readonly firstApproval: Map<string, string>;
  readonly approved: Map<string, string>;
}

function remember(map: Map<string, Evidence[]>, key: string, evidence: Evidence): void {
  const list = map.get(key) ?? [];
  list.push(evidence);
  if (list.length > EVIDENCE_KEEP) list.shift();
  map.set(key, list);
}

async function indexEvents(source: InventorySource, actions: ReadonlySet<string>): Promise<EventIndex> {
  const index: EventIndex = {
    byAction: new Map(),
    byActionPackage: new Map(),
    counts: new Map(),
    firstApproval: new Map(),
    approved: new Map(),
  };
  for await (const event of source.audit.events()) {
    if (event.action === 'release.approval' && !index.firstApproval.has(event.subject))
      index.firstApproval.set(event.subject, event.at);
    if (event.action === 'release.approved') index.approved.set(event.subject, event.at);
    if (!actions.has(event.action)) continue;
    const evidence: Evidence = {
      seq: event.seq,
      hash: event.hash,
      action: event.action,
      at: event.at,
      href: `/ui/audit#seq-${event.seq}`,
    };
    remember(index.byAction, event.action, evidence);
    const pkg = event.data['package'];
    if (typeof pkg === 'string') {
      remember(index.byActionPackage, `${event.action}\u0000${pkg}`, evidence);
      index.counts.set(
        `${event.action}\u0000${pkg}`,
        (index.counts.get(`${event.action}\u0000${pkg}`) ?? 0) + 1,
      );
    }
    index.counts.set(event.action, (index.counts.get(event.action) ?? 0) + 1);
  }
  return index;
}

function judge(
  control: Control,
  context: {
    findings: readonly Finding[];
    evidence: Evidence[];
    count: number;
    chainOk: boolean;
    publishers: number;
    signing: boolean;
    limit: number;
  },
): ControlResult {
  const breaking = context.findings.filter((f) => control.brokenBy.includes(f.kind));
  let status: ControlStatus = breaking.length > 0 ? 'violated' : 'enforced';
  let detail =
    breaking.length > 0
      ? `${breaking.length} finding(s) break this control`
      : control.kind === 'hygiene'
        ? 'no finding breaks this control'
        : 'enforced by the gate for every release';
  if (control.kind === 'audit-chain') {
    status = context.chainOk ? 'enforced' : 'violated';
    detail = context.chainOk
      ? 'the audit chain verifies end to end'
      : 'the audit chain is broken: run `pubgate log verify`';
  } else if (control.kind === 'configured' && context.publishers === 0 && breaking.length === 0) {
    status = 'not-configured';
    detail = 'no trusted publisher is configured: CI jobs would need stored credentials';
  } else if (control.kind === 'signing' && !context.signing) {
    status = 'not-wired';
    detail =
      'no gate signing key is in the inventory: start the gate once (or run `pubgate init`) to create it, then report again';
  }
  const newest = [...context.evidence].sort((a, b) => b.seq - a.seq).slice(0, context.limit);
  return {
    control: control.id,
    title: control.title,
    status,
    detail,
    findings: breaking.map((f) => f.id),
    evidence: newest,
    evidenceCount: context.count,
    mappings: control.mappings,
  };
}

function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** Builds the report from a collected inventory and its findings. */
export async function buildComplianceReport(
  source: InventorySource,
  inventory: Inventory,
  findings: readonly Finding[],
  settings: { options?: Partial<InventoryOptions>; evidencePerControl?: number } = {},
): Promise<ComplianceReport> {
  assertValidControlMappings(CONTROLS);
  const options = { ...DEFAULT_INVENTORY_OPTIONS, ...settings.options };
  const limit = settings.evidencePerControl ?? 5;
  const now = new Date(inventory.generatedAt);
  const actions = new Set(CONTROLS.flatMap((c) => c.evidence));
  const index = await indexEvents(source, actions);
  const chain = await source.audit.verify();
  const publishers = inventory.items.filter((i) => i.kind === 'trusted-publisher').length;
  const signing = inventory.items.some((i) => i.kind === 'gate' && i.capabilities.includes('sign'));
  const chainOk = chain.ok;

  const overall = CONTROLS.map((control) => {
    const evidence = control.evidence.flatMap((a) => index.byAction.get(a) ?? []);
    const count = control.evidence.reduce((n, a) => n + (index.counts.get(a) ?? 0), 0);
    return judge(control, { findings, evidence, count, chainOk, publishers, signing, limit });
  });

  const releases = await source.store.db
    .selectFrom('releases')
    .select(['id', 'package', 'version', 'state', 'created_at'])
    .orderBy('created_at')
    .execute();
  const names = [
    ...new Set([
      ...releases.map((r) => r.package),
      ...inventory.protectedPackages.filter((p) => !p.includes('*')),
    ]),
  ].sort();
  const packages = names.map((name) => {
    const counts: Record<string, number> = {};
    for (const r of releases) if (r.package === name) counts[r.state] = (counts[r.state] ?? 0) + 1;
    const relevant = findings.filter((f) => f.packages.some((p) => patternsOverlap(p, name)));
    const controls = CONTROLS.filter((c) => c.scope === 'package').map((control) => {
      const evidence = control.evidence.flatMap((a) => index.byActionPackage.get(`${a}\u0000${name}`) ?? []);
      const count = control.evidence.reduce((n, a) => n + (index.counts.get(`${a}\u0000${name}`) ?? 0), 0);
      return judge(control, { findings: relevant, evidence, count, chainOk, publishers, signing, limit });
    });
    return { name, releases: counts, controls };
  });

  const mapping: MappingRow[] = CONTROLS.flatMap((c) =>
    c.mappings.map((mp) => ({
      control: c.id,
      framework: mp.framework,
      frameworkName: FRAMEWORKS[mp.framework].name,
      id: mp.id,
      title: titleOfControlId(mp.framework, mp.id) ?? '',
    })),
  );

  const approvalLatency = releases.flatMap((r) => {
    const approvedAt = index.approved.get(`release:${r.id}`);
    if (approvedAt === undefined) return [];
    const start = index.firstApproval.get(`release:${r.id}`) ?? r.created_at;
    return [
      {
        release: r.id,
        label: `${r.package}@${r.version}`,
        seconds: Math.max(0, (Date.parse(approvedAt) - Date.parse(start)) / 1000),
      },
    ];
  });
  const credentialLifetimes = inventory.items.flatMap((i) => {
    const c = i.credential;
    if (c === null || i.capabilities.length === 0) return [];
    const seconds =
      c.expiresAt === null || c.createdAt === null
        ? null
        : Math.max(0, (Date.parse(c.expiresAt) - Date.parse(c.createdAt)) / 1000);
    return [{ id: i.id, label: i.name, seconds }];
  });
  const findingsOverTime: Array<{ day: string; total: number; high: number }> = [];
  for (let d = 29; d >= 0; d--) {
    const end = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - d, 23, 59, 59, 999),
    );
    const open = findings.filter((f) => (f.since === null ? d === 0 : Date.parse(f.since) <= end.getTime()));
    findingsOverTime.push({
      day: dayOf(end.toISOString()),
      total: open.length,
      high: open.filter((f) => f.severity === 'critical' || f.severity === 'high').length,
    });
  }
  const releasesByState = packages
    .filter((p) => Object.keys(p.releases).length > 0)
    .map((p) => ({ package: p.name, counts: p.releases }));

  const severities = Object.fromEntries(
    SEVERITIES.map((s) => [s, findings.filter((f) => f.severity === s).length]),
  ) as Record<Severity, number>;
  const credentialItems = inventory.items.filter((i) => i.credential !== null);
  return {
    generatedAt: inventory.generatedAt,
    options,
    summary: {
      identities: inventory.items.length,
      credentials: credentialItems.length,
      liveCredentials: credentialItems.filter(
        (i) =>
          i.credential!.revokedAt === null &&
          (i.credential!.expiresAt === null || Date.parse(i.credential!.expiresAt) > now.getTime()),
      ).length,
      findings: severities,
      controlsEnforced: overall.filter((c) => c.status === 'enforced').length,
      controls: overall.length,
      auditChain: { ok: chain.ok, events: chain.events, headHash: chain.ok ? chain.headHash : null },
    },
    controls: overall,
    packages,
    findings,
    mapping,
    charts: { approvalLatency, credentialLifetimes, findingsOverTime, releasesByState },
    inventory,
    notes: [
      ...inventory.notes,
      'Upstream tokens other than the gate’s come from imported files: the gate cannot ask the public registry which tokens it accepts while offline.',
      'Evidence links point at /ui/audit#seq-<n>; each names the event’s sequence number and hash, which `pubgate log verify` checks.',
    ],
  };
}

/** Collects the inventory, detects findings and builds the report, in one call. */
export async function generateComplianceReport(
  source: InventorySource,
  options: GenerateReportOptions = {},
): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const inventory = await collectInventory(source, { imports: options.imports ?? [], now });
  const findings = detectFindings(inventory, options.options ?? {}, now);
  return buildComplianceReport(source, inventory, findings, {
    options: options.options ?? {},
    ...(options.evidencePerControl === undefined ? {} : { evidencePerControl: options.evidencePerControl }),
  });
}

/** Every release state, for renderers that list counts in order. */
export const REPORT_RELEASE_STATES: readonly string[] = RELEASE_STATES;
