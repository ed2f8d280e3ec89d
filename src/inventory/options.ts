/** Thresholds of the findings engine, with defaults (config keys come later; these are the defaults). */
import { INVENTORY_ERROR_CODES, InventoryError } from './errors.ts';

/** Options of the inventory and its findings. */
export interface InventoryOptions {
  /** Longest lifetime a live credential may have (policy maximum), in seconds. */
  readonly maxLifetimeSeconds: number;
  /** A live credential unused this long is stale, in seconds. */
  readonly staleAfterSeconds: number;
}

/** Defaults: 90 days maximum lifetime, stale after 30 days unused. Never mutated. */
export const DEFAULT_INVENTORY_OPTIONS: InventoryOptions = Object.freeze({
  maxLifetimeSeconds: 90 * 86_400,
  staleAfterSeconds: 30 * 86_400,
});

/** Parses `90d`, `12h`, `30m`, `45s` (or bare seconds) into seconds; throws `ERR_INVENTORY_BAD_DURATION`. */
export function parseInventoryDuration(text: string): number {
  const match = /^(\d{1,9})(s|m|h|d)?$/.exec(text.trim());
  if (match === null)
    throw new InventoryError(
      INVENTORY_ERROR_CODES.badDuration,
      `invalid duration ${JSON.stringify(text.slice(0, 40))}: use e.g. 90d, 12h, 30m`,
    );
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  const seconds = Number(match[1]) * unit;
  if (seconds <= 0)
    throw new InventoryError(INVENTORY_ERROR_CODES.badDuration, 'a duration must be positive');
  return seconds;
}

/** Formats seconds for people: `90d`, `12h`, `15m`, `30s`. */
export function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds >= 86_400) return `${(seconds / 86_400).toFixed(1)}d`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds >= 3600) return `${(seconds / 3600).toFixed(1)}h`;
  if (seconds >= 60) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds)}s`;
}
