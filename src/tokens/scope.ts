/** Package scope patterns: `name`, `@scope/name`, `@scope/*`, or `*`. */

/** True when `name` is covered by any of `patterns`. */
export function scopeCovers(patterns: readonly string[], name: string): boolean {
  return patterns.some((pattern) => {
    if (pattern === '*') return true;
    if (pattern.endsWith('/*'))
      return name.startsWith(pattern.slice(0, -1)) && name.length > pattern.length - 1;
    return pattern === name;
  });
}

/** Checks a pattern's shape; throws `RangeError` for a malformed one (a caller mistake). */
export function assertScopePattern(pattern: string): void {
  if (!/^(\*|@[a-z0-9][a-z0-9._~-]*\/(\*|[a-z0-9._~-]+)|[a-z0-9][a-z0-9._~-]*)$/.test(pattern)) {
    throw new RangeError(
      `invalid package scope pattern ${JSON.stringify(pattern)}: use name, @scope/name, @scope/* or *`,
    );
  }
}
