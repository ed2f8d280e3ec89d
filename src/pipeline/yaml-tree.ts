/**
 * Our one wrapper around the `yaml` package: parses a file into a small position-keeping tree
 * (maps, sequences, scalars with source offsets) so rules never touch the library's types and
 * every finding points at the exact line and column the user wrote.
 */
import {
  LineCounter,
  parseDocument,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type Node as LibNode,
} from 'yaml';
import { AUDIT_ERROR_CODES, AuditFileError } from './errors.ts';

/** Fields common to every node: half-open source offsets of the value. */
interface NodeBase {
  readonly start: number;
  readonly end: number;
}

/** A mapping; `<<` merge keys are already spliced in (own keys win). */
export interface MapNode extends NodeBase {
  readonly kind: 'map';
  readonly entries: readonly MapEntry[];
}

/** One key/value pair of a mapping. */
export interface MapEntry {
  readonly key: string;
  readonly keyStart: number;
  readonly value: TreeNode;
}

/** A sequence. */
export interface SeqNode extends NodeBase {
  readonly kind: 'seq';
  readonly items: readonly TreeNode[];
  /** A custom tag such as GitLab's `!reference`. */
  readonly tag: string | undefined;
}

/** How a scalar was written; decides how offsets inside its value map back to the source. */
export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

/** A scalar (string, number, boolean or null). */
export interface ScalarNode extends NodeBase {
  readonly kind: 'scalar';
  readonly value: string | number | boolean | null;
  readonly style: ScalarStyle;
  readonly tag: string | undefined;
}

/** Any node of the tree. */
export type TreeNode = MapNode | SeqNode | ScalarNode;

/** A parsed YAML (or JSON) file with its position index. */
export interface YamlFile {
  readonly path: string;
  readonly text: string;
  readonly root: TreeNode | undefined;
  /** 1-based line and column of a source offset. */
  positionAt(offset: number): { line: number; column: number };
}

/** Options of {@link parseYamlFile}. */
export interface ParseYamlFileOptions {
  /** Upper bound on nodes built, aliases included (stops "billion laughs" alias bombs). */
  readonly maxNodes?: number;
  /** Upper bound on nesting depth (stops alias cycles and pathological nesting). */
  readonly maxDepth?: number;
}

const DEFAULT_MAX_NODES = 200_000;
const DEFAULT_MAX_DEPTH = 200;

/** Parses YAML (JSON is a subset) into a position-keeping tree; throws {@link AuditFileError} on bad input. */
export function parseYamlFile(path: string, text: string, options: ParseYamlFileOptions = {}): YamlFile {
  const lineCounter = new LineCounter();
  // uniqueKeys false: GitHub and GitLab accept duplicate keys (last wins); we report, not validate.
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    prettyErrors: false,
    keepSourceTokens: false,
  });
  const positionAt = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(Math.max(0, Math.min(offset, text.length)));
    return { line: pos.line, column: pos.col };
  };
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = positionAt(first.pos[0]);
    throw new AuditFileError(
      AUDIT_ERROR_CODES.yamlInvalid,
      `${path}:${pos.line}:${pos.column}: not valid YAML (${first.code})`,
      {
        details: { file: path, line: pos.line, column: pos.column },
      },
    );
  }
  const builder = new TreeBuilder(
    doc,
    path,
    options.maxNodes ?? DEFAULT_MAX_NODES,
    options.maxDepth ?? DEFAULT_MAX_DEPTH,
  );
  const root = doc.contents === null ? undefined : builder.build(doc.contents as LibNode, 0);
  return { path, text, root, positionAt };
}

class TreeBuilder {
  private count = 0;

  constructor(
    private readonly doc: Document,
    private readonly path: string,
    private readonly maxNodes: number,
    private readonly maxDepth: number,
  ) {}

  build(node: LibNode, depth: number): TreeNode {
    if (depth > this.maxDepth) {
      throw new AuditFileError(
        AUDIT_ERROR_CODES.yamlTooDeep,
        `${this.path}: YAML nested deeper than ${this.maxDepth} levels (alias cycle?)`,
        {
          details: { file: this.path },
        },
      );
    }
    if (++this.count > this.maxNodes) {
      throw new AuditFileError(
        AUDIT_ERROR_CODES.yamlAliasLimit,
        `${this.path}: YAML expands to more than ${this.maxNodes} nodes (alias bomb?)`,
        {
          details: { file: this.path },
        },
      );
    }
    const [start = 0, end = start] = node.range ?? [];
    if (isAlias(node)) {
      // An alias reports at its anchor: that is where the text the finding talks about is written.
      const target = node.resolve(this.doc);
      if (target === undefined)
        return { kind: 'scalar', value: null, style: 'plain', tag: undefined, start, end };
      return this.build(target as LibNode, depth + 1);
    }
    if (isMap(node)) {
      const own: MapEntry[] = [];
      const merged: MapEntry[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as LibNode | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : '';
        const keyStart = keyNode?.range?.[0] ?? start;
        const keyEnd = keyNode?.range?.[1] ?? keyStart;
        const valueNode = pair.value as LibNode | null;
        if (key === '<<' && isScalar(keyNode) && valueNode !== null) {
          merged.push(...this.mergeEntries(valueNode, depth + 1));
          continue;
        }
        const value: TreeNode =
          valueNode === null
            ? { kind: 'scalar', value: null, style: 'plain', tag: undefined, start: keyEnd, end: keyEnd }
            : this.build(valueNode, depth + 1);
        own.push({ key, keyStart, value });
      }
      const ownKeys = new Set(own.map((e) => e.key));
      const entries = [...own, ...merged.filter((e) => !ownKeys.has(e.key))];
      return { kind: 'map', entries, start, end };
    }
    if (isSeq(node)) {
      const items = node.items.map((item) => this.build(item as LibNode, depth + 1));
      return { kind: 'seq', items, tag: node.tag, start, end };
    }
    if (isScalar(node)) {
      const raw = node.value;
      const value =
        typeof raw === 'string' || typeof raw === 'number' || typeof raw === 'boolean' || raw === null
          ? raw
          : String(raw);
      return { kind: 'scalar', value, style: toStyle(node.type), tag: node.tag, start, end };
    }
    return { kind: 'scalar', value: null, style: 'plain', tag: undefined, start, end };
  }

  /** YAML 1.1 merge key (`<<: *base` or `<<: [*a, *b]`), which GitHub Actions and GitLab both honour. */
  private mergeEntries(valueNode: LibNode, depth: number): MapEntry[] {
    const built = this.build(valueNode, depth);
    const maps =
      built.kind === 'map'
        ? [built]
        : built.kind === 'seq'
          ? built.items.filter((i): i is MapNode => i.kind === 'map')
          : [];
    const seen = new Set<string>();
    const out: MapEntry[] = [];
    for (const map of maps) {
      for (const entry of map.entries) {
        if (seen.has(entry.key)) continue;
        seen.add(entry.key);
        out.push(entry);
      }
    }
    return out;
  }
}

function toStyle(type: string | undefined): ScalarStyle {
  switch (type) {
    case 'QUOTE_SINGLE':
      return 'single';
    case 'QUOTE_DOUBLE':
      return 'double';
    case 'BLOCK_LITERAL':
      return 'literal';
    case 'BLOCK_FOLDED':
      return 'folded';
    default:
      return 'plain';
  }
}

/** The entry of `key` in a map node, if any. */
export function getEntry(node: TreeNode | undefined, key: string): MapEntry | undefined {
  if (node?.kind !== 'map') return undefined;
  // Last one wins, as in GitHub Actions and GitLab.
  for (let i = node.entries.length - 1; i >= 0; i--) {
    const entry = node.entries[i];
    if (entry !== undefined && entry.key === key) return entry;
  }
  return undefined;
}

/** The value node of `key` in a map node, if any. */
export function getValue(node: TreeNode | undefined, key: string): TreeNode | undefined {
  return getEntry(node, key)?.value;
}

/** The string form of a scalar node (numbers and booleans stringified); undefined for collections and null. */
export function toText(node: TreeNode | undefined): string | undefined {
  if (node?.kind !== 'scalar' || node.value === null) return undefined;
  return String(node.value);
}

/** The string value at `key`, if it is a scalar. */
export function getText(node: TreeNode | undefined, key: string): string | undefined {
  return toText(getValue(node, key));
}

/** The items of a sequence node, or the node itself as a one-item list (GitHub/GitLab accept both for many keys). */
export function toList(node: TreeNode | undefined): readonly TreeNode[] {
  if (node === undefined) return [];
  if (node.kind === 'seq') return node.items;
  if (node.kind === 'scalar' && node.value === null) return [];
  return [node];
}

/** Visits every scalar under `node` (used for expression searches such as `secrets.X` or `toJSON(secrets)`). */
export function forEachScalar(node: TreeNode | undefined, visit: (scalar: ScalarNode) => void): void {
  if (node === undefined) return;
  if (node.kind === 'scalar') visit(node);
  else if (node.kind === 'seq') for (const item of node.items) forEachScalar(item, visit);
  else for (const entry of node.entries) forEachScalar(entry.value, visit);
}

/**
 * Maps an offset inside a scalar's *value* back to a source offset. Literal blocks (`run: |`) map
 * exactly line by line; single-line plain and quoted scalars map by shifting; anything folded falls
 * back to finding the same text in the node's source slice, and finally to the node start.
 */
export function sourceOffsetOf(
  file: YamlFile,
  node: ScalarNode,
  valueOffset: number,
  needle?: string,
): number {
  const value = typeof node.value === 'string' ? node.value : String(node.value);
  const slice = file.text.slice(node.start, node.end);
  if (node.style === 'literal') {
    const mapped = literalOffset(slice, value, valueOffset);
    if (mapped !== undefined) return node.start + mapped;
  } else if (!slice.includes('\n')) {
    const shift = node.style === 'plain' ? 0 : 1;
    const candidate = slice.slice(shift + valueOffset, shift + valueOffset + (needle?.length ?? 1));
    if (needle === undefined || candidate === needle) return node.start + shift + valueOffset;
  }
  if (needle !== undefined && needle.length > 0) {
    // Same occurrence index in the source as in the value.
    let index = -1;
    let nth = 0;
    while ((index = value.indexOf(needle, index + 1)) !== -1 && index < valueOffset) nth++;
    let at = -1;
    for (let i = 0; i <= nth; i++) {
      at = slice.indexOf(needle, at + 1);
      if (at === -1) break;
    }
    if (at !== -1) return node.start + at;
  }
  return node.start;
}

/** Offset in `slice` (which starts at the `|` header) of `valueOffset` in the literal's value. */
function literalOffset(slice: string, value: string, valueOffset: number): number | undefined {
  const headerEnd = slice.indexOf('\n');
  if (headerEnd === -1) return undefined;
  const lines = slice.slice(headerEnd + 1).split('\n');
  // Indentation of the block: the first non-blank line's leading spaces (YAML 1.2 §8.1.1.1).
  const firstContent = lines.find((l) => l.trim() !== '');
  if (firstContent === undefined) return undefined;
  const indent = firstContent.length - firstContent.trimStart().length;
  const before = value.slice(0, valueOffset);
  const lineIndex = before.split('\n').length - 1;
  const column = valueOffset - (before.lastIndexOf('\n') + 1);
  let offset = headerEnd + 1;
  for (let i = 0; i < lineIndex; i++) {
    const line = lines[i];
    if (line === undefined) return undefined;
    offset += line.length + 1;
  }
  const line = lines[lineIndex];
  if (line === undefined) return undefined;
  return offset + Math.min(indent, line.length) + column;
}

/** Converts a node to plain JSON-like data (for the config file). */
export function toPlain(node: TreeNode | undefined): unknown {
  if (node === undefined) return undefined;
  if (node.kind === 'scalar') return node.value;
  if (node.kind === 'seq') return node.items.map((item) => toPlain(item));
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const entry of node.entries) out[entry.key] = toPlain(entry.value);
  return out;
}
