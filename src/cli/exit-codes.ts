/** The one table that maps error codes to CLI exit codes. */
import { PubgateError } from '../errors/index.ts';

/** Exit codes: 0 ok, 1 the answer is "no" (findings, not published), 2 usage or input error, 3 config, 4 peer failure, 70 internal, 124 timed out. */
export const EXIT = Object.freeze({
  ok: 0,
  negative: 1,
  usage: 2,
  config: 3,
  unavailable: 4,
  internal: 70,
  timeout: 124,
});

const byPrefix: ReadonlyArray<readonly [string, number]> = [
  ['ERR_CONFIG_', EXIT.config],
  ['ERR_VERIFY_', EXIT.negative],
  ['ERR_UPSTREAM_', EXIT.unavailable],
  ['ERR_STORE_', EXIT.unavailable],
];

/** Maps any thrown value to an exit code. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof PubgateError) {
    for (const [prefix, code] of byPrefix) if (error.code.startsWith(prefix)) return code;
    return EXIT.usage;
  }
  // Caller mistakes (bad flag values) are usage errors too.
  if (error instanceof RangeError || error instanceof TypeError) return EXIT.usage;
  return EXIT.internal;
}

/** One-line (or listed) message for the terminal; never includes a stack for coded errors. */
export function formatCliError(error: unknown): string {
  if (error instanceof PubgateError) return `pubgate: ${error.code}: ${error.message}`;
  if (error instanceof RangeError || error instanceof TypeError) return `pubgate: ${error.message}`;
  if (error instanceof Error) return `pubgate: internal error: ${error.message}`;
  return 'pubgate: internal error';
}
