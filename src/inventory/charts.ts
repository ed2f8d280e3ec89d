/**
 * Inline SVG charts drawn by our own code: no script, no CDN, no library, so the HTML report is
 * one self-contained file. Every data mark has class `mark` (the browser test counts them).
 */
import type { ReportCharts } from './report.ts';

/** Escapes text for HTML and SVG content and attributes. */
export function escapeXml(value: unknown): string {
  return String(value).replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const W = 640;
const H = 260;
const PAD = { left: 48, right: 16, top: 40, bottom: 56 };
/** State colours, colour-blind friendly (Okabe–Ito). */
export const STATE_COLOURS: Readonly<Record<string, string>> = Object.freeze({
  received: '#999999',
  checked: '#56B4E9',
  awaiting_approval: '#E69F00',
  approved: '#0072B2',
  publishing: '#CC79A7',
  published: '#009E73',
  rejected: '#D55E00',
  expired: '#6b6b6b',
  failed: '#000000',
});

function frame(id: string, title: string, body: string, height = H): string {
  return `<svg class="chart" data-chart="${escapeXml(id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="${escapeXml(title)}"><title>${escapeXml(title)}</title><text x="${PAD.left}" y="18" class="chart-title">${escapeXml(title)}</text>${body}</svg>`;
}

function empty(id: string, title: string): string {
  return frame(
    id,
    title,
    `<text x="${W / 2}" y="${H / 2}" text-anchor="middle" class="chart-empty">no data yet</text>`,
  );
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function axes(max: number, unit: string): string {
  const plotH = H - PAD.top - PAD.bottom;
  const ticks = [0, 0.5, 1].map((f) => {
    const y = PAD.top + plotH * (1 - f);
    return `<line x1="${PAD.left}" x2="${W - PAD.right}" y1="${y}" y2="${y}" class="grid"/><text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${escapeXml(Number.isInteger(max * f) ? max * f : (max * f).toFixed(1))}</text>`;
  });
  return `${ticks.join('')}<line x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${H - PAD.bottom}" class="axis"/><text x="12" y="${PAD.top + plotH / 2}" transform="rotate(-90 12 ${PAD.top + plotH / 2})" text-anchor="middle" class="tick">${escapeXml(unit)}</text>`;
}

/** Vertical bars of `bins` (label, count). */
function histogram(
  id: string,
  title: string,
  bins: ReadonlyArray<{ label: string; value: number; colour?: string }>,
  unit: string,
): string {
  if (bins.every((b) => b.value === 0)) return empty(id, title);
  const max = niceMax(Math.max(...bins.map((b) => b.value)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / bins.length;
  const bars = bins
    .map((b, i) => {
      const h = (b.value / max) * plotH;
      const x = PAD.left + i * slot + slot * 0.15;
      const y = PAD.top + plotH - h;
      const bar =
        b.value === 0
          ? ''
          : `<rect class="mark" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.colour ?? '#0072B2'}"><title>${escapeXml(`${b.label}: ${b.value}`)}</title></rect><text x="${(x + slot * 0.35).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle" class="value">${b.value}</text>`;
      return `${bar}<text x="${(PAD.left + i * slot + slot / 2).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" class="tick">${escapeXml(b.label)}</text>`;
    })
    .join('');
  return frame(id, title, axes(max, unit) + bars);
}

const LATENCY_BINS: ReadonlyArray<readonly [string, number]> = [
  ['< 1 min', 60],
  ['1–5 min', 300],
  ['5–15 min', 900],
  ['15–60 min', 3600],
  ['1–4 h', 4 * 3600],
  ['4–24 h', 86_400],
  ['> 1 day', Number.POSITIVE_INFINITY],
];

/** Approval latency: releases per latency bucket. */
export function renderApprovalLatencyChart(series: ReportCharts['approvalLatency']): string {
  const bins = LATENCY_BINS.map(([label]) => ({ label, value: 0 }));
  for (const r of series) bins[LATENCY_BINS.findIndex(([, upTo]) => r.seconds < upTo)]!.value++;
  return histogram('approval-latency', 'Approval latency (releases per bucket)', bins, 'releases');
}

const LIFETIME_BINS: ReadonlyArray<readonly [string, number]> = [
  ['≤ 15 min', 900],
  ['≤ 1 h', 3600],
  ['≤ 1 day', 86_400],
  ['≤ 7 days', 7 * 86_400],
  ['≤ 30 days', 30 * 86_400],
  ['≤ 90 days', 90 * 86_400],
  ['> 90 days', Number.POSITIVE_INFINITY],
];

/** Credential lifetimes: credentials per lifetime bucket, plus those that never expire. */
export function renderCredentialLifetimeChart(series: ReportCharts['credentialLifetimes']): string {
  const bins: Array<{ label: string; value: number; colour?: string }> = LIFETIME_BINS.map(([label], i) => ({
    label,
    value: 0,
    colour: i >= 5 ? '#E69F00' : '#0072B2',
  }));
  bins.push({ label: 'never', value: 0, colour: '#D55E00' });
  for (const c of series) {
    if (c.seconds === null) bins[bins.length - 1]!.value++;
    else bins[LIFETIME_BINS.findIndex(([, upTo]) => c.seconds! <= upTo)]!.value++;
  }
  return histogram(
    'credential-lifetimes',
    'Credential lifetimes (credentials per bucket)',
    bins,
    'credentials',
  );
}

/** Findings over time: open findings per day, all and high or worse. */
export function renderFindingsOverTimeChart(series: ReportCharts['findingsOverTime']): string {
  const title = 'Open findings over the last 30 days';
  if (series.length === 0 || series.every((d) => d.total === 0)) return empty('findings-over-time', title);
  const max = niceMax(Math.max(...series.map((d) => d.total)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (series.length === 1 ? plotW / 2 : (i / (series.length - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const line = (pick: (d: (typeof series)[number]) => number, colour: string, name: string) => {
    const d = series
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(pick(p)).toFixed(1)}`)
      .join(' ');
    const last = series.length - 1;
    return `<path class="mark" d="${d}" fill="none" stroke="${colour}" stroke-width="2.5"><title>${escapeXml(name)}</title></path><circle class="mark" cx="${x(last).toFixed(1)}" cy="${y(pick(series[last]!)).toFixed(1)}" r="4" fill="${colour}"><title>${escapeXml(`${name} today: ${pick(series[last]!)}`)}</title></circle>`;
  };
  const labels = [0, Math.floor((series.length - 1) / 2), series.length - 1]
    .map(
      (i) =>
        `<text x="${x(i).toFixed(1)}" y="${H - PAD.bottom + 16}" text-anchor="middle" class="tick">${escapeXml(series[i]!.day)}</text>`,
    )
    .join('');
  const legend = `<rect x="${W - 220}" y="8" width="12" height="4" fill="#0072B2"/><text x="${W - 204}" y="14" class="tick">all findings</text><rect x="${W - 120}" y="8" width="12" height="4" fill="#D55E00"/><text x="${W - 104}" y="14" class="tick">high or worse</text>`;
  return frame(
    'findings-over-time',
    title,
    axes(max, 'findings') +
      line((d) => d.total, '#0072B2', 'all findings') +
      line((d) => d.high, '#D55E00', 'high or worse') +
      labels +
      legend,
  );
}

/** Releases per package, stacked by state. */
export function renderReleasesByStateChart(series: ReportCharts['releasesByState']): string {
  const title = 'Releases per package by state';
  const rows = series.slice(0, 20);
  if (rows.length === 0) return empty('releases-by-state', title);
  const rowH = 22;
  const left = 170;
  const height = PAD.top + rows.length * rowH + 48;
  const max = niceMax(Math.max(...rows.map((r) => Object.values(r.counts).reduce((a, b) => a + b, 0))));
  const plotW = W - left - PAD.right;
  const states = Object.keys(STATE_COLOURS);
  const bars = rows
    .map((r, i) => {
      const y = PAD.top + i * rowH;
      let x = left;
      const segments = states
        .filter((s) => (r.counts[s] ?? 0) > 0)
        .map((s) => {
          const w = ((r.counts[s] ?? 0) / max) * plotW;
          const rect = `<rect class="mark" x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${STATE_COLOURS[s]}"><title>${escapeXml(`${r.package} ${s}: ${r.counts[s]}`)}</title></rect>`;
          x += w;
          return rect;
        })
        .join('');
      return `<text x="${left - 6}" y="${y + rowH / 2 + 4}" text-anchor="end" class="tick">${escapeXml(r.package.length > 26 ? `${r.package.slice(0, 25)}…` : r.package)}</text>${segments}`;
    })
    .join('');
  const used = states.filter((s) => rows.some((r) => (r.counts[s] ?? 0) > 0));
  const legend = used
    .map(
      (s, i) =>
        `<rect x="${left + i * 92}" y="${height - 30}" width="10" height="10" fill="${STATE_COLOURS[s]}"/><text x="${left + i * 92 + 14}" y="${height - 21}" class="tick">${escapeXml(s.replace('_', ' '))}</text>`,
    )
    .join('');
  return frame('releases-by-state', title, bars + legend, height);
}
