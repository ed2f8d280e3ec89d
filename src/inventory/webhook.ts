/**
 * Slack-compatible webhook for high-severity findings (`{text, blocks}`, as Slack incoming webhooks
 * accept). The payload names findings and fixes only: no secret, no token, no fingerprint, and no
 * link at all, so a receiver never gets anything that approves, signs or publishes.
 */
import { INVENTORY_ERROR_CODES, InventoryError } from './errors.ts';
import { isHighSeverity } from './findings.ts';
import type { Finding } from './types.ts';

/** A Slack-compatible message. */
export interface WebhookPayload {
  readonly text: string;
  readonly blocks: ReadonlyArray<Record<string, unknown>>;
}

/** Options of {@link sendFindingsWebhook}. */
export interface SendFindingsWebhookOptions {
  readonly timeoutMs?: number;
  /** Most findings listed in one message (Slack allows 50 blocks). */
  readonly maxFindings?: number;
}

/** Outcome of a webhook call. */
export interface WebhookOutcome {
  readonly sent: boolean;
  readonly findings: number;
  readonly status?: number;
}

// Slack's mrkdwn control characters; names in findings come from import files and must not
// turn into mentions (<!channel>) or links (<url|text>).
function plain(text: string): string {
  return text
    .replace(/[<>&]/g, (ch) => ({ '<': '‹', '>': '›', '&': '＆' })[ch] ?? ch)
    .replace(/https?:\/\/\S+/gi, '[link removed]')
    .slice(0, 600);
}

/** Builds the message for the high-severity findings among `findings`. */
export function buildWebhookPayload(
  findings: readonly Finding[],
  options: { maxFindings?: number } = {},
): WebhookPayload {
  const high = findings.filter(isHighSeverity);
  const shown = high.slice(0, options.maxFindings ?? 20);
  const text = `pubgate: ${high.length} high-severity identity finding(s)`;
  const blocks: Array<Record<string, unknown>> = [
    { type: 'header', text: { type: 'plain_text', text: plain(text).slice(0, 150) } },
  ];
  for (const f of shown) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*${f.severity.toUpperCase()}* ${plain(f.title)}\n${plain(f.detail)}\n_Fix:_ ${plain(f.fix)}`,
      },
    });
  }
  if (high.length > shown.length)
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `and ${high.length - shown.length} more; run \`pubgate report\` on the gate host`,
        },
      ],
    });
  return { text, blocks };
}

/** Throws `ERR_INVENTORY_WEBHOOK_URL` unless `url` is an http(s) URL. The URL itself is never echoed (it is often a secret). */
export function assertWebhookUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InventoryError(INVENTORY_ERROR_CODES.webhookUrl, 'the webhook URL is not a URL');
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new InventoryError(INVENTORY_ERROR_CODES.webhookUrl, 'the webhook URL must be http or https');
  return parsed;
}

/** POSTs the high-severity findings to `url`; sends nothing when there are none. Throws `ERR_INVENTORY_WEBHOOK_FAILED` on a non-2xx answer. */
export async function sendFindingsWebhook(
  url: string,
  findings: readonly Finding[],
  options: SendFindingsWebhookOptions = {},
): Promise<WebhookOutcome> {
  const target = assertWebhookUrl(url);
  const high = findings.filter(isHighSeverity);
  if (high.length === 0) return { sent: false, findings: 0 };
  const payload = buildWebhookPayload(
    high,
    options.maxFindings === undefined ? {} : { maxFindings: options.maxFindings },
  );
  let response: Response;
  try {
    response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      redirect: 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (cause) {
    throw new InventoryError(
      INVENTORY_ERROR_CODES.webhookFailed,
      `the webhook at ${target.host} did not answer`,
      { details: { reason: cause instanceof Error ? cause.name : 'error' } },
    );
  }
  await response.body?.cancel();
  if (!response.ok)
    throw new InventoryError(
      INVENTORY_ERROR_CODES.webhookFailed,
      `the webhook at ${target.host} answered ${response.status}`,
      { details: { status: response.status } },
    );
  return { sent: true, findings: high.length, status: response.status };
}
