/** A small seeded pseudo-random generator (mulberry32), so a failing chaos schedule can be replayed. */

/** Draws from one seeded stream. */
export interface SeededRandom {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** Creates a generator for `seed` (any 32-bit integer); the same seed gives the same draws. */
export function createSeededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    // mulberry32: full 2^32 period, good enough for test schedules (not for secrets).
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => {
      if (!Number.isInteger(min) || !Number.isInteger(max) || max < min)
        throw new RangeError('int() needs integers with min <= max');
      return min + Math.floor(next() * (max - min + 1));
    },
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new RangeError('pick() needs a non-empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/** Reads a seed from `value` (decimal or 0x-hex), or makes a fresh one when it is unset. */
export function toSeed(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return (Math.random() * 2 ** 32) >>> 0;
  const parsed = Number(value.trim());
  if (!Number.isInteger(parsed) || parsed < 0 || parsed >= 2 ** 32)
    throw new RangeError(`a seed is an integer in [0, 2^32): got ${JSON.stringify(value.slice(0, 40))}`);
  return parsed;
}
