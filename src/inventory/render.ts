/** Renderers of the report and the inventory: JSON, Markdown, and self-contained HTML with inline SVG charts. */
import { createHash } from 'node:crypto';
import {
  escapeXml as esc,
  renderApprovalLatencyChart,
  renderCredentialLifetimeChart,
  renderFindingsOverTimeChart,
  renderReleasesByStateChart,
} from './charts.ts';
import { FRAMEWORK_IDS, FRAMEWORKS } from './frameworks.ts';
import { formatDuration } from './options.ts';
import type { ComplianceReport, ControlResult, Evidence } from './report.ts';
import type { Finding, Inventory, InventoryItem } from './types.ts';
import { INVENTORY_ERROR_CODES, InventoryError } from './errors.ts';

/** Output formats of `pubgate report`. */
export type ReportFormat = 'html' | 'md' | 'json';

/** Options of the renderers. */
export interface RenderOptions {
  /** Prefix for evidence links (the gate's URL); links stay relative without it. */
  readonly baseUrl?: string;
}

/** The report's only style sheet, inline (its sha256 goes into the page's CSP). */
export const REPORT_CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1b1b1b;max-width:1200px}h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}table{border-collapse:collapse;width:100%;margin:8px 0}th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f4f4f4}code{font-size:12px}.enforced{color:#00734f;font-weight:600}.violated{color:#b00020;font-weight:600}.not-configured,.not-wired{color:#8a5a00;font-weight:600}.sev-critical,.sev-high{color:#b00020;font-weight:600}.sev-medium{color:#8a5a00}.sev-low{color:#555}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}.chart{border:1px solid #ddd;background:#fff;width:100%;height:auto}.chart-title{font-weight:600;font-size:13px}.tick{font-size:11px;fill:#444}.value{font-size:11px;fill:#111}.grid{stroke:#eee}.axis{stroke:#999}.chart-empty{fill:#888}.muted{color:#666}`;

/** The CSP source for {@link REPORT_CSS}. */
export const REPORT_CSS_HASH = `'sha256-${createHash('sha256').update(REPORT_CSS).digest('base64')}'`;

/** Throws `ERR_INVENTORY_BAD_FORMAT` unless `format` is html, md or json. */
export function assertReportFormat(format: string): asserts format is ReportFormat {
  if (format !== 'html' && format !== 'md' && format !== 'json')
    throw new InventoryError(INVENTORY_ERROR_CODES.badFormat, 'format must be html, md or json');
}

function link(e: Evidence, options: RenderOptions): string {
  return `${options.baseUrl?.replace(/\/+$/, '') ?? ''}${e.href}`;
}

function capsOf(item: InventoryItem): string {
  return item.capabilities.length === 0 ? '—' : item.capabilities.join(', ');
}

function credentialCells(item: InventoryItem): [string, string, string, string] {
  const c = item.credential;
  if (c === null) return ['—', '—', '—', '—'];
  return [
    c.createdAt?.slice(0, 10) ?? '?',
    c.expiresAt?.slice(0, 10) ?? 'never',
    c.lastUsedAt?.slice(0, 10) ?? 'never',
    c.revokedAt === null ? 'live' : `revoked ${c.revokedAt.slice(0, 10)}`,
  ];
}

function seenText(item: InventoryItem): string {
  const places = [...new Set([...item.places, ...item.seen.map((s) => `${s.host} (${s.context})`)])];
  return places.length === 0 ? '—' : places.join(', ');
}

/** The inventory as JSON-ready data (no secrets: names, kinds, dates, fingerprints only). */
export function inventoryToJson(inventory: Inventory, findings: readonly Finding[]): Record<string, unknown> {
  return {
    generatedAt: inventory.generatedAt,
    items: inventory.items,
    people: inventory.people,
    protectedPackages: inventory.protectedPackages,
    findings,
    notes: inventory.notes,
  };
}

/** JSON text of the report. */
export function renderReportJson(report: ComplianceReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function mdCell(value: unknown): string {
  return String(value).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdControls(controls: readonly ControlResult[], options: RenderOptions): string[] {
  return [
    '| control | status | detail | evidence |',
    '| --- | --- | --- | --- |',
    ...controls.map(
      (c) =>
        `| ${c.control} ${mdCell(c.title)} | ${c.status} | ${mdCell(c.detail)} | ${c.evidence.map((e) => `[#${e.seq}](${link(e, options)}) \`${e.hash.slice(0, 12)}\``).join(' ') || '—'}${c.evidenceCount > c.evidence.length ? ` (+${c.evidenceCount - c.evidence.length})` : ''} |`,
    ),
  ];
}

/** Markdown text of the report. */
export function renderReportMarkdown(report: ComplianceReport, options: RenderOptions = {}): string {
  const s = report.summary;
  const lines = [
    '# pubgate compliance report',
    '',
    `Generated ${report.generatedAt}. Maximum credential lifetime ${formatDuration(report.options.maxLifetimeSeconds)}, stale after ${formatDuration(report.options.staleAfterSeconds)}.`,
    '',
    `- Identities and credentials: ${s.identities} (${s.liveCredentials} of ${s.credentials} credentials live)`,
    `- Findings: ${Object.entries(s.findings)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}`,
    `- Controls enforced: ${s.controlsEnforced} of ${s.controls}`,
    `- Audit chain: ${s.auditChain.ok ? `intact, ${s.auditChain.events} events, head \`${s.auditChain.headHash ?? ''}\`` : 'BROKEN'}`,
    '',
    '## Controls (gate)',
    '',
    ...mdControls(report.controls, options),
    '',
    '## Controls per package',
    '',
  ];
  for (const p of report.packages) {
    lines.push(
      `### ${p.name}`,
      '',
      `Releases: ${
        Object.entries(p.releases)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ') || 'none'
      }`,
      '',
      ...mdControls(p.controls, options),
      '',
    );
  }
  lines.push('## Findings', '');
  if (report.findings.length === 0) lines.push('No findings.');
  else
    lines.push(
      '| severity | finding | detail | fix |',
      '| --- | --- | --- | --- |',
      ...report.findings.map((f) => `| ${f.severity} | ${f.kind} | ${mdCell(f.detail)} | ${mdCell(f.fix)} |`),
    );
  lines.push(
    '',
    '## Identities and credentials',
    '',
    '| id | kind | person/owner | can | packages | created | expires | last used | state | seen |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const i of report.inventory.items)
    lines.push(
      `| ${mdCell(i.id)} | ${i.kind} | ${mdCell(i.person ?? i.owner ?? '—')} | ${capsOf(i)} | ${mdCell(i.packages.join(' ') || '—')} | ${credentialCells(i).join(' | ')} | ${mdCell(seenText(i))} |`,
    );
  lines.push(
    '',
    '## Control mapping',
    '',
    '| control | framework | identifier | title |',
    '| --- | --- | --- | --- |',
    ...report.mapping.map(
      (r) => `| ${r.control} | ${mdCell(r.frameworkName)} | ${r.id} | ${mdCell(r.title)} |`,
    ),
  );
  lines.push('', '## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

function htmlControls(controls: readonly ControlResult[], options: RenderOptions): string {
  return `<table><tr><th>control</th><th>status</th><th>detail</th><th>mapped to</th><th>evidence (audit events)</th></tr>${controls
    .map(
      (c) =>
        `<tr id="control-${esc(c.control)}"><td><strong>${esc(c.control)}</strong><br>${esc(c.title)}</td><td class="${esc(c.status)}">${esc(c.status)}</td><td>${esc(c.detail)}</td><td>${c.mappings.map((mp) => `<code>${esc(mp.id)}</code>`).join(' ')}</td><td>${
          c.evidence
            .map(
              (e) =>
                `<a href="${esc(link(e, options))}">#${e.seq} ${esc(e.action)}</a> <code>${esc(e.hash.slice(0, 12))}</code>`,
            )
            .join('<br>') || '<span class="muted">—</span>'
        }${c.evidenceCount > c.evidence.length ? `<br><span class="muted">and ${c.evidenceCount - c.evidence.length} more</span>` : ''}</td></tr>`,
    )
    .join('')}</table>`;
}

function htmlFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return '<p>No findings.</p>';
  return `<table><tr><th>severity</th><th>finding</th><th>detail</th><th>fix</th></tr>${findings.map((f) => `<tr id="finding-${esc(f.id)}"><td class="sev-${esc(f.severity)}">${esc(f.severity)}</td><td>${esc(f.title)}<br><code>${esc(f.kind)}</code></td><td>${esc(f.detail)}</td><td>${esc(f.fix)}</td></tr>`).join('')}</table>`;
}

/** The inventory table (shared by the report and the identities page). */
export function renderInventoryTable(inventory: Inventory): string {
  return `<table><tr><th>identity / credential</th><th>kind</th><th>person / owner</th><th>can</th><th>packages</th><th>created</th><th>expires</th><th>last used</th><th>state</th><th>seen at</th></tr>${inventory.items
    .map((i) => {
      const extra =
        i.kind === 'person'
          ? ` <span class="muted">roles ${esc((i.details['roles'] as string[] | undefined)?.join(', ') ?? '')}; groups ${esc((i.details['groups'] as string[] | undefined)?.join(', ') ?? '')}; ${(i.details['passkeys'] as unknown[] | undefined)?.length ?? 0} passkey(s)</span>`
          : '';
      return `<tr><td>${esc(i.name)}${extra}<br><code>${esc(i.id)}</code></td><td>${esc(i.kind)}</td><td>${esc(i.person ?? i.owner ?? '—')}</td><td>${esc(capsOf(i))}</td><td>${esc(i.packages.join(' ') || '—')}</td>${credentialCells(
        i,
      )
        .map((c) => `<td>${esc(c)}</td>`)
        .join('')}<td>${esc(seenText(i))}</td></tr>`;
    })
    .join('')}</table>`;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${REPORT_CSS}</style></head><body>${body}</body></html>`;
}

/** The self-contained HTML report (inline style and SVG charts; no script, no external resource). */
export function renderReportHtml(report: ComplianceReport, options: RenderOptions = {}): string {
  const s = report.summary;
  const c = report.charts;
  const frameworks = FRAMEWORK_IDS.map(
    (id) => `<li>${esc(FRAMEWORKS[id].name)} — <span class="muted">${esc(FRAMEWORKS[id].source)}</span></li>`,
  ).join('');
  const body = `<h1>pubgate compliance report</h1>
<p class="muted">Generated ${esc(report.generatedAt)} · maximum credential lifetime ${esc(formatDuration(report.options.maxLifetimeSeconds))} · stale after ${esc(formatDuration(report.options.staleAfterSeconds))}</p>
<table><tr><th>identities and credentials</th><td>${s.identities} (${s.liveCredentials} of ${s.credentials} credentials live)</td></tr><tr><th>findings</th><td>${Object.entries(
    s.findings,
  )
    .map(([k, v]) => `<span class="sev-${esc(k)}">${v} ${esc(k)}</span>`)
    .join(
      ', ',
    )}</td></tr><tr><th>controls enforced</th><td>${s.controlsEnforced} of ${s.controls}</td></tr><tr><th>audit chain</th><td>${s.auditChain.ok ? `<span class="enforced">intact</span>, ${s.auditChain.events} events, head <code>${esc(s.auditChain.headHash ?? '')}</code>` : '<span class="violated">BROKEN</span>'}</td></tr></table>
<h2>Charts</h2><div class="charts">${renderApprovalLatencyChart(c.approvalLatency)}${renderCredentialLifetimeChart(c.credentialLifetimes)}${renderFindingsOverTimeChart(c.findingsOverTime)}${renderReleasesByStateChart(c.releasesByState)}</div>
<h2>Controls (gate)</h2>${htmlControls(report.controls, options)}
<h2>Controls per package</h2>${
    report.packages
      .map(
        (p) =>
          `<h3 id="package-${esc(p.name)}">${esc(p.name)}</h3><p class="muted">Releases: ${esc(
            Object.entries(p.releases)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ') || 'none',
          )}</p>${htmlControls(p.controls, options)}`,
      )
      .join('') || '<p class="muted">No protected package yet.</p>'
  }
<h2>Findings</h2>${htmlFindings(report.findings)}
<h2>Identities and credentials</h2>${renderInventoryTable(report.inventory)}
<h2>Control mapping</h2><table><tr><th>control</th><th>framework</th><th>identifier</th><th>title</th></tr>${report.mapping.map((r) => `<tr><td>${esc(r.control)}</td><td>${esc(r.frameworkName)}</td><td><code>${esc(r.id)}</code></td><td>${esc(r.title)}</td></tr>`).join('')}</table><ul>${frameworks}</ul>
<h2>Notes</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`;
  return page('pubgate compliance report', body);
}

/** The identities page: every identity and credential with its findings. */
export function renderInventoryHtml(inventory: Inventory, findings: readonly Finding[]): string {
  return page(
    'pubgate identities',
    `<h1>Identities and credentials</h1><p class="muted">Generated ${esc(inventory.generatedAt)} · <a href="/ui/report">compliance report</a> · <a href="/ui/releases">back to pubgate</a></p><h2>Findings</h2>${htmlFindings(findings)}<h2>Inventory</h2>${renderInventoryTable(inventory)}<h2>Notes</h2><ul>${inventory.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`,
  );
}

/** Renders the report in `format`. */
export function renderReport(
  report: ComplianceReport,
  format: ReportFormat,
  options: RenderOptions = {},
): string {
  if (format === 'json') return renderReportJson(report);
  if (format === 'md') return renderReportMarkdown(report, options);
  return renderReportHtml(report, options);
}
