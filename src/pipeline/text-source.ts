/** A piece of text to analyse and the way its offsets map back to a file position. */
import { sourceOffsetOf, type ScalarNode, type YamlFile } from './yaml-tree.ts';
import type { SourceLocation } from './types.ts';

/** Text plus a locator from offsets in it to file locations. */
export interface TextSource {
  readonly file: string;
  readonly text: string;
  /** Location of `[offset, offset + length)` of `text`; `needle` is the matched text (helps folded scalars). */
  locate(offset: number, length?: number, needle?: string): SourceLocation;
}

/** Line starts of a text, for offset → line/column. */
export function toLineIndex(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line and column of `offset` in a text with the given line index. */
export function positionIn(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] ?? 0) + 1 };
}

/** A whole plain-text file (script, Makefile). */
export function fileSource(file: string, text: string): TextSource {
  let index: number[] | undefined;
  return {
    file,
    text,
    locate(offset, length = 0) {
      index ??= toLineIndex(text);
      const a = positionIn(index, offset);
      const b = positionIn(index, offset + length);
      return { file, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
    },
  };
}

/** A slice `[start, end)` of a plain-text file, analysed on its own (a Makefile recipe). */
export function sliceSource(whole: TextSource, start: number, end: number): TextSource {
  return {
    file: whole.file,
    text: whole.text.slice(start, end),
    locate: (offset, length = 0, needle) => whole.locate(start + offset, length, needle),
  };
}

/** Text derived from another source at a fixed shift (the inside of `sh -c '…'`, a string literal). */
export function shiftedSource(parent: TextSource, text: string, shift: number): TextSource {
  return {
    file: parent.file,
    text,
    locate: (offset, length = 0, needle) => parent.locate(shift + offset, length, needle),
  };
}

/** The value of a YAML scalar (a `run:` block, a package.json script). */
export function scalarSource(file: YamlFile, node: ScalarNode): TextSource {
  const text = typeof node.value === 'string' ? node.value : String(node.value ?? '');
  return {
    file: file.path,
    text,
    locate(offset, length = 0, needle) {
      const fragment = needle ?? text.slice(offset, offset + length);
      const at = sourceOffsetOf(file, node, offset, fragment === '' ? undefined : fragment);
      const a = file.positionAt(at);
      const b = file.positionAt(at + Math.max(0, fragment.length));
      return { file: file.path, line: a.line, column: a.column, endLine: b.line, endColumn: b.column };
    },
  };
}

/** The location of a YAML node (its start to its end, clipped to one line for readability). */
export function nodeLocation(file: YamlFile, start: number, end: number): SourceLocation {
  const a = file.positionAt(start);
  const b = file.positionAt(end);
  return b.line === a.line
    ? { file: file.path, line: a.line, column: a.column, endLine: b.line, endColumn: b.column }
    : { file: file.path, line: a.line, column: a.column };
}
