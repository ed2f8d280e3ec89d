/** Server-rendered pages of the web UI. Every value is escaped; scripts come only from /ui/assets. */
import type { AuditEvent } from '../../auditlog/index.ts';
import type { ListedPublisher, PasskeyInfo, Person } from '../../identity/index.ts';
import type { Lockdown } from '../../lockdown/index.ts';
import type { QuorumStatus } from '../../approval/index.ts';
import { buildProvenanceOf, type PackageDiff, type Release } from '../../release/index.ts';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function layout(
  title: string,
  body: string,
  options: { person?: Person | undefined; csrf?: string | undefined } = {},
): string {
  const nav =
    options.person === undefined
      ? ''
      : `<a href="/ui/releases">Releases</a><a href="/ui/account">Passkeys</a>${options.person.roles.includes('admin') ? '<a href="/ui/people">People</a><a href="/ui/admin">Publishers &amp; lockdown</a>' : ''}${options.person.roles.some((r) => r === 'admin' || r === 'auditor') ? '<a href="/ui/audit">Audit log</a><a href="/ui/identities">Identities</a><a href="/ui/report">Report</a>' : ''}<span class="muted">${escapeHtml(options.person.name)} (${escapeHtml(options.person.roles.join(', '))})</span><button data-action="logout">Sign out</button>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · pubgate</title><link rel="stylesheet" href="/ui/assets/app.css">${options.csrf === undefined ? '' : `<meta name="csrf-token" content="${escapeHtml(options.csrf)}">`}
<script src="/ui/assets/webauthn.js" defer></script><script src="/ui/assets/app.js" defer></script></head>
<body><header><strong>pubgate</strong>${nav}</header><main>${body}<div id="status" role="status" aria-live="polite"></div></main></body></html>`;
}

/** The sign-in page. */
export function loginPage(): string {
  return layout(
    'Sign in',
    `<h1>Sign in</h1><div class="card"><p>pubgate uses passkeys only: no passwords, no codes. Use the passkey you registered with your enrolment link.</p>
<button class="primary" data-action="login">Sign in with a passkey</button></div>`,
  );
}

/** The enrolment page behind a one-time link. */
export function enrolPage(token: string, presetName: string | null, roles: readonly string[]): string {
  return layout(
    'Create your passkey',
    `<h1>Create your passkey</h1><div class="card"><p>This one-time link makes you a pubgate ${escapeHtml(roles.join(', ') || 'member')}. Your authenticator must verify you (PIN or biometrics).</p>
<p><label>Name <input id="name" autocomplete="username" value="${escapeHtml(presetName ?? '')}" ${presetName === null ? '' : 'readonly'} pattern="[a-z0-9][a-z0-9._-]{0,63}"></label></p>
<button class="primary" data-action="enrol" data-token="${escapeHtml(token)}">Create passkey</button></div>`,
  );
}

function stateBadge(state: string): string {
  return `<span class="state state-${escapeHtml(state)}">${escapeHtml(state.replace('_', ' '))}</span>`;
}

/** The releases list. */
export function releasesPage(
  person: Person,
  csrf: string,
  pending: readonly Release[],
  recent: readonly Release[],
): string {
  const rows = (list: readonly Release[]) =>
    list.length === 0
      ? '<tr><td colspan="5" class="muted">none</td></tr>'
      : list
          .map(
            (r) =>
              `<tr><td><a href="/ui/releases/${escapeHtml(r.id)}">${escapeHtml(r.package)}@${escapeHtml(r.version)}</a></td><td>${stateBadge(r.state)}</td><td>${escapeHtml(r.requester.kind)}:${escapeHtml(r.requester.id)}</td><td>${r.requiredApprovals}</td><td>${escapeHtml(r.createdAt)}</td></tr>`,
          )
          .join('');
  const head =
    '<tr><th>release</th><th>state</th><th>requested by</th><th>approvals needed</th><th>requested</th></tr>';
  return layout(
    'Releases',
    `<h1>Pending releases</h1><table>${head}${rows(pending)}</table><h2>Recent</h2><table>${head}${rows(recent)}</table>`,
    { person, csrf },
  );
}

function fmtSize(bytes: number): string {
  return bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 * 1024
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function diffSection(diff: PackageDiff | undefined): string {
  if (diff === undefined) return '<p class="muted">No diff recorded.</p>';
  const list = (items: readonly string[]) =>
    items.length === 0 ? '<span class="muted">none</span>' : `<ul>${items.join('')}</ul>`;
  return `<p>Compared with ${diff.previousVersion === null ? '<strong>no previous version</strong> (first release: every file is new)' : `<strong>${escapeHtml(diff.previousVersion)}</strong>`}.</p>
<table><tr><th>install scripts (preinstall, install, postinstall, prepare)</th><td>${
    diff.installScripts.length === 0
      ? '<span class="ok">unchanged</span>'
      : list(
          diff.installScripts.map(
            (s) =>
              `<li class="bad">${escapeHtml(s.name)} ${escapeHtml(s.change)}: <code>${escapeHtml(s.command)}</code></li>`,
          ),
        )
  }</td></tr>
<tr><th>dependencies added</th><td>${list(diff.dependenciesAdded.map((d) => `<li class="warn">${escapeHtml(d.name)} <code>${escapeHtml(d.range)}</code> (${escapeHtml(d.kind)})</li>`))}</td></tr>
<tr><th>new native binaries</th><td>${list(diff.newNativeBinaries.map((p) => `<li class="bad">${escapeHtml(p)}</li>`))}</td></tr>
<tr><th>new minified or obfuscated code</th><td>${list(diff.newMinified.map((p) => `<li class="warn">${escapeHtml(p)}</li>`))}</td></tr>
<tr><th>files added</th><td>${list(diff.added.slice(0, 200).map((f) => `<li>${escapeHtml(f.path)} (${fmtSize(f.size)})</li>`))}${diff.added.length > 200 ? `<p>…and ${diff.added.length - 200} more</p>` : ''}</td></tr>
<tr><th>files removed</th><td>${list(diff.removed.slice(0, 200).map((f) => `<li>${escapeHtml(f.path)} (${fmtSize(f.size)})</li>`))}</td></tr>
<tr><th>files changed</th><td>${list(diff.changed.slice(0, 200).map((f) => `<li>${escapeHtml(f.path)} (${fmtSize(f.from)} → ${fmtSize(f.to)})</li>`))}</td></tr></table>`;
}

/** The release detail page with the evidence approvers need. */
/** Evidence and comments attached to a release. */
export interface EvidenceView {
  readonly kind: string;
  readonly name: string;
  readonly identity: string;
  readonly at: string;
  readonly summary: Readonly<Record<string, unknown>>;
}

function evidenceSection(evidence: readonly EvidenceView[]): string {
  if (evidence.length === 0) return '<p class="muted">none</p>';
  return `<table><tr><th>when</th><th>from</th><th>what</th></tr>${evidence
    .map((e) => {
      const secrets =
        (e.summary['secrets'] as Array<{ ruleId: string; line: number; preview: string }> | undefined) ?? [];
      const what =
        e.kind === 'comment'
          ? `comment: ${escapeHtml(String(e.summary['text'] ?? ''))}`
          : `${escapeHtml(e.kind)} <code>${escapeHtml(e.name)}</code> (${escapeHtml(e.summary['bytes'])} bytes${e.summary['passed'] === null || e.summary['passed'] === undefined ? '' : e.summary['passed'] === true ? ', <span class="ok">passed</span>' : ', <span class="bad">failed</span>'})${
              secrets.length === 0
                ? ''
                : `<br><span class="bad">secrets in this log (revoked where pubgate's own): ${secrets.map((x) => `${escapeHtml(x.ruleId)} line ${x.line} (${escapeHtml(x.preview)})`).join(', ')}</span>`
            }`;
      return `<tr><td>${escapeHtml(e.at)}</td><td>${escapeHtml(e.name === 'bot' || e.kind === 'comment' ? `${e.name}:${e.identity}` : e.identity)}</td><td>${what}</td></tr>`;
    })
    .join('')}</table>`;
}

export function releasePage(
  person: Person,
  csrf: string,
  status: QuorumStatus,
  options: {
    mayApprove: string | undefined;
    mayReject: boolean;
    isRequester: boolean;
    evidence?: readonly EvidenceView[];
  },
): string {
  const r = status.release;
  const diff = r.checks.find((c) => c.name === 'diff')?.details as PackageDiff | undefined;
  const reasons = (r.policy.reasons ?? []) as readonly string[];
  const pending = r.state === 'awaiting_approval';
  const actions = !pending
    ? ''
    : `<div class="card"><h2>Decision</h2>
${options.mayApprove === undefined ? `<button class="primary" data-action="approve" data-release="${escapeHtml(r.id)}">Approve with passkey</button>` : `<p class="muted">You cannot approve: ${escapeHtml(options.mayApprove)}</p>`}
${options.mayReject ? `<p><label>Reason <input id="reason" maxlength="300"></label> <button class="danger" data-action="reject" data-release="${escapeHtml(r.id)}">Reject with passkey</button></p>` : ''}
${options.isRequester && status.requesterMustVerify && !status.requesterVerified ? `<p><button class="primary" data-action="request" data-release="${escapeHtml(r.id)}">Authenticate my request</button> (you asked for this release; this is not an approval)</p>` : ''}</div>`;
  return layout(
    `${r.package}@${r.version}`,
    `<h1>${escapeHtml(r.package)}@${escapeHtml(r.version)} ${stateBadge(r.state)}</h1>
<table>
<tr><th>release</th><td><code>${escapeHtml(r.id)}</code></td></tr>
<tr><th>digest (sha512)</th><td><code>${escapeHtml(r.integrity)}</code></td></tr>
<tr><th>size</th><td>${fmtSize(r.size)}; shasum <code>${escapeHtml(r.shasum)}</code></td></tr>
<tr><th>dist-tag</th><td>${escapeHtml(r.tag)} (via npm ${escapeHtml(r.channel)})</td></tr>
<tr><th>requested by</th><td>${escapeHtml(r.requester.kind)}:${escapeHtml(r.requester.id)} at ${escapeHtml(r.createdAt)} — ${status.requesterMustVerify ? (status.requesterVerified ? '<span class="ok">requester authenticated with a passkey</span>' : '<span class="warn">requester has not authenticated the request yet</span>') : 'workload identity'}</td></tr>
<tr><th>from</th><td>${escapeHtml(String((r.checks.find((c) => c.name === 'request')?.details as { ip?: unknown } | undefined)?.ip ?? 'unknown'))} — <code>${escapeHtml(String((r.checks.find((c) => c.name === 'request')?.details as { userAgent?: unknown } | undefined)?.userAgent ?? ''))}</code></td></tr>
${(r.policy.excluded ?? []).length === 0 ? '' : `<tr><th>excluded from approving</th><td>${escapeHtml((r.policy.excluded ?? []).join(', '))}</td></tr>`}
<tr><th>expires</th><td>${escapeHtml(r.expiresAt)}</td></tr>
<tr><th>policy</th><td>${escapeHtml(status.required)} approval(s) from group <strong>${escapeHtml(r.approverGroup)}</strong>; exposure tier ${escapeHtml(r.policy.exposureTier ?? 'base')}; policy version <code>${escapeHtml(r.policy.policyVersion ?? '')}</code><ul>${reasons.map((x) => `<li>${escapeHtml(x)}</li>`).join('')}</ul></td></tr>
<tr><th>approvals</th><td><strong id="approval-count">${status.approvals.length} of ${status.required}</strong><ul>${status.approvals.map((a) => `<li>${escapeHtml(a.name)} at ${escapeHtml(a.at)} (passkey <code>${escapeHtml(a.credentialId.slice(0, 12))}…</code>)</li>`).join('')}</ul></td></tr>
<tr><th>checks</th><td>${r.checks
      .filter((c) => c.name !== 'diff' && c.name !== 'policy' && c.name !== 'request')
      .map((c) =>
        c.name === 'build-provenance' && buildProvenanceOf(r) === undefined
          ? `<span class="muted">${escapeHtml(c.name)}: none attached</span>`
          : `<span class="${c.ok ? 'ok' : 'bad'}">${escapeHtml(c.name)}: ${c.ok ? 'passed' : 'FAILED'}</span>`,
      )
      .join(' · ')}</td></tr>
${r.reason === null ? '' : `<tr><th>reason</th><td>${escapeHtml(r.reason)}</td></tr>`}
</table>
<h2>Changes against the previous version</h2>${diffSection(diff)}
<h2>Build provenance</h2>${provenanceSection(r)}
<h2>Secret scan</h2>${secretSection(r)}
<h2>Evidence and comments</h2>${evidenceSection(options.evidence ?? [])}${actions}`,
    { person, csrf },
  );
}

/** Where the build says the bytes came from, and how much of that the gate could check. */
export function provenanceSection(r: Release): string {
  const d = buildProvenanceOf(r);
  if (d === undefined) return '<p class="muted">no build provenance came with this release</p>';
  const id = d.identity;
  const rows = [
    ['signed by', d.kind === 'build-key' ? `build key ${d.keyId ?? ''}` : 'signing certificate'],
    ['repository', id.repository ?? ''],
    ['workflow', id.workflowPath ?? ''],
    ['ref', id.ref ?? ''],
    ['commit', id.commit ?? ''],
    ['matched', d.matched === 'workload' ? 'the CI run that staged this release' : d.matched],
  ].filter(([, v]) => v !== '');
  const chain =
    d.kind !== 'certificate'
      ? ''
      : d.certificateChainVerified
        ? '<p class="ok">certificate chain verified against the configured CA</p>'
        : '<p class="warn">certificate chain not verified (no trusted CA configured); the identity is checked against the trusted publisher only</p>';
  return `<p class="ok">verified: the subject is this tarball's sha512</p><table>${rows
    .map(([k, v]) => `<tr><th>${escapeHtml(k!)}</th><td><code>${escapeHtml(v!)}</code></td></tr>`)
    .join('')}</table>${chain}<p class="muted">the transparency log (Rekor) is not checked offline</p>`;
}

function secretSection(r: Release): string {
  const check = r.checks.find((c) => c.name === 'secret-scan');
  if (check === undefined) return '<p class="muted">not scanned</p>';
  const findings =
    (
      check.details as
        | {
            findings?: Array<{
              ruleTitle: string;
              path: string;
              line: number;
              preview: string;
              kind: string;
            }>;
          }
        | undefined
    )?.findings ?? [];
  if (findings.length === 0) return '<p class="ok">no secrets found in the tarball</p>';
  return `<ul>${findings.map((f) => `<li class="${f.kind === 'secret' ? 'bad' : 'warn'}">${escapeHtml(f.ruleTitle)} in ${escapeHtml(f.path)}:${f.line} (${escapeHtml(f.preview)})</li>`).join('')}</ul>`;
}

/** The signed-in person's passkeys. */
export function accountPage(person: Person, csrf: string, passkeys: readonly PasskeyInfo[]): string {
  return layout(
    'Passkeys',
    `<h1>Your passkeys</h1><table><tr><th>label</th><th>created</th><th>last used</th><th></th></tr>${passkeys
      .map(
        (p) =>
          `<tr><td>${escapeHtml(p.label)}</td><td>${escapeHtml(p.createdAt)}</td><td>${escapeHtml(p.lastUsedAt ?? 'never')}</td><td><button class="danger" data-action="remove-passkey" data-passkey="${escapeHtml(p.id)}">Remove (step-up)</button></td></tr>`,
      )
      .join('')}</table>
<div class="card"><label>Label <input id="label" maxlength="64" value="another passkey"></label> <button data-action="add-passkey">Add a passkey</button></div>`,
    { person, csrf },
  );
}

/** People and invitations (admins). */
export function peoplePage(person: Person, csrf: string, people: readonly Person[]): string {
  return layout(
    'People',
    `<h1>People</h1><table><tr><th>name</th><th>roles</th><th>groups</th><th>since</th><th>change (step-up)</th></tr>${people
      .map(
        (p) =>
          `<tr><td>${escapeHtml(p.name)}</td><td>${escapeHtml(p.roles.join(', '))}</td><td>${escapeHtml(p.groups.join(', '))}</td><td>${escapeHtml(p.createdAt)}</td>` +
          `<td><input id="roles-${escapeHtml(p.id)}" value="${escapeHtml(p.roles.join(','))}" size="22"> <input id="groups-${escapeHtml(p.id)}" value="${escapeHtml(p.groups.join(','))}" size="14"> <button data-action="set-roles" data-person="${escapeHtml(p.id)}">Save</button></td></tr>`,
      )
      .join('')}</table>
<div class="card"><h2>Invite someone</h2><p>${['maintainer', 'approver', 'auditor', 'admin'].map((r) => `<label><input type="checkbox" name="role" value="${r}"${r === 'approver' ? ' checked' : ''}> ${r}</label>`).join(' ')}</p>
<p><label>Approver groups (comma separated) <input id="groups" value="approvers"></label></p><button data-action="invite">Create invitation link</button><p><code id="invitation"></code></p></div>`,
    { person, csrf },
  );
}

/** The audit log view. */
export function auditPage(person: Person, csrf: string, events: readonly AuditEvent[]): string {
  return layout(
    'Audit log',
    `<h1>Audit log</h1><p class="muted">Newest first. Verify the whole chain with <code>pubgate log verify</code>.</p><table><tr><th>#</th><th>time</th><th>actor</th><th>action</th><th>subject</th><th>hash</th></tr>${events
      .map(
        (e) =>
          `<tr id="seq-${e.seq}"><td>${e.seq}</td><td>${escapeHtml(e.at)}</td><td>${escapeHtml(e.actor)}</td><td>${escapeHtml(e.action)}</td><td>${escapeHtml(e.subject)}</td><td><code>${escapeHtml(e.hash.slice(0, 16))}</code></td></tr>`,
      )
      .join('')}</table>`,
    { person, csrf },
  );
}

/** Trusted publishers and the kill switch (admins; every change is a passkey step-up). */
export function adminPage(
  person: Person,
  csrf: string,
  publishers: readonly ListedPublisher[],
  lockdowns: readonly Lockdown[],
): string {
  return layout(
    'Publishers & lockdown',
    `<h1>Trusted publishers</h1><p class="muted">CI identities that may stage packages with no stored secret. Config-file publishers change in the config file.</p>
<table><tr><th>packages</th><th>provider</th><th>issuer</th><th>audience</th><th>claims</th><th>source</th><th></th></tr>${publishers
      .map(
        (p) =>
          `<tr><td>${escapeHtml(p.publisher.packages.join(', '))}</td><td>${escapeHtml(p.publisher.provider)}</td><td><code>${escapeHtml(p.publisher.issuer)}</code></td><td><code>${escapeHtml(p.publisher.audience)}</code></td><td><code>${escapeHtml(JSON.stringify(p.publisher.claims))}</code></td><td>${escapeHtml(p.source)}</td><td>${
            p.source === 'admin'
              ? `<button class="danger" data-action="admin" data-admin-action="remove-publisher" data-payload="${escapeHtml(JSON.stringify({ id: p.id }))}">Remove (step-up)</button>`
              : ''
          }</td></tr>`,
      )
      .join('')}</table>
<div class="card"><h2>Add a publisher</h2><textarea id="publisher" rows="8" cols="90">${escapeHtml(
      JSON.stringify(
        {
          packages: ['@acme/*'],
          provider: 'github',
          issuer: 'https://token.actions.githubusercontent.com',
          audience: 'npm:gate.example.com',
          claims: {
            repository_id: '123',
            workflow_ref: 'acme/app/.github/workflows/release.yml@refs/tags/*',
          },
        },
        null,
        2,
      ),
    )}</textarea><p><button data-action="add-publisher">Add with passkey</button></p></div>
<h1>Lockdown (kill switch)</h1><table><tr><th>target</th><th>reason</th><th>since</th><th>by</th><th></th></tr>${
      lockdowns.length === 0
        ? '<tr><td colspan="5" class="muted">no active lockdown</td></tr>'
        : lockdowns
            .map(
              (l) =>
                `<tr><td>${escapeHtml(l.target)}</td><td>${escapeHtml(l.reason)}</td><td>${escapeHtml(l.createdAt)}</td><td>${escapeHtml(l.createdBy)}</td><td><button data-action="admin" data-admin-action="lift-lockdown" data-payload="${escapeHtml(JSON.stringify({ id: l.id }))}">Lift (step-up)</button></td></tr>`,
            )
            .join('')
    }</table>
<div class="card"><p>Revokes every live credential in scope, rejects pending releases, and refuses exchanges, requests and publishes until lifted.</p>
<p><label>Target <input id="lock-target" placeholder="@acme/* | package | identity:name | all"></label> <label>Reason <input id="lock-reason" size="40"></label></p>
<button class="danger" data-action="lockdown">Lock down with passkey</button></div>`,
    { person, csrf },
  );
}
