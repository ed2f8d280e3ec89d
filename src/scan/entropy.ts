/** Shannon entropy and simple randomness checks used to tell secrets from words. */

/** Shannon entropy of `value` in bits per character. */
export function shannonEntropy(value: string): number {
  if (value.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** Number of distinct characters in `value`. */
export function distinctCharacters(value: string): number {
  return new Set(value).size;
}

const SEQUENCES = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'];

/** True when `value` is made of repeats or alphabet runs, as hand-typed fake tokens are. */
export function isLowQualityRandom(value: string): boolean {
  if (value.length < 8) return true;
  if (distinctCharacters(value) < Math.min(10, Math.ceil(value.length / 3))) return true;
  if (/(.)\1{5,}/.test(value)) return true;
  // A run of 7 consecutive alphabet characters essentially never occurs in random base62 text.
  for (const sequence of SEQUENCES) {
    for (let i = 0; i + 7 <= sequence.length; i++) {
      if (value.includes(sequence.slice(i, i + 7))) return true;
    }
  }
  return false;
}
