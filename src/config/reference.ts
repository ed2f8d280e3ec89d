/**
 * Generated views of the schema: the config reference (docs/config.md) and the commented config
 * that `pubgate init` writes. Both walk the one schema, so they cannot drift from it.
 */
import { z } from 'zod';
import { configSchema } from './schema.ts';
import { ENV_OVERRIDES } from './load.ts';

interface Field {
  readonly path: string;
  readonly type: string;
  readonly defaultValue: unknown;
  readonly description: string;
  readonly isGroup: boolean;
  /** Optional with no default: left out unless the operator writes it (e.g. `signing.pkcs11`). */
  readonly optional: boolean;
}

function unwrap(schema: z.ZodType): { inner: z.ZodType; defaultValue: unknown; optional: boolean } {
  let current: z.ZodType = schema;
  let defaultValue: unknown = undefined;
  let optional = false;
  for (;;) {
    if (current instanceof z.ZodDefault) {
      defaultValue = (current.def as { defaultValue: unknown }).defaultValue;
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodOptional) {
      optional = true;
      current = current.def.innerType as z.ZodType;
    } else {
      return { inner: current, defaultValue, optional: optional && defaultValue === undefined };
    }
  }
}

function typeName(schema: z.ZodType): string {
  if (schema instanceof z.ZodEnum) return (schema.options as string[]).map((o) => `\`${o}\``).join(' \\| ');
  if (schema instanceof z.ZodNumber) return 'integer';
  if (schema instanceof z.ZodURL) return 'URL';
  if (schema instanceof z.ZodString) return 'string';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodObject) return 'object';
  if (schema instanceof z.ZodArray) return 'list';
  if (schema instanceof z.ZodRecord) return 'map';
  return 'value';
}

/** Every field of the schema, depth first, with its type, default and description. */
export function listConfigFields(): Field[] {
  const out: Field[] = [];
  const walk = (shape: Record<string, z.ZodType>, prefix: string): void => {
    for (const [key, field] of Object.entries(shape)) {
      const { inner, defaultValue, optional } = unwrap(field);
      const path = prefix + key;
      const isGroup = inner instanceof z.ZodObject;
      out.push({
        path,
        type: typeName(inner),
        defaultValue: isGroup ? undefined : defaultValue,
        description: field.description ?? '',
        isGroup,
        optional,
      });
      if (inner instanceof z.ZodObject) walk(inner.shape as Record<string, z.ZodType>, `${path}.`);
    }
  };
  walk(configSchema.shape as Record<string, z.ZodType>, '');
  return out;
}

/** The Markdown config reference. */
export function renderConfigReference(): string {
  const envByPath = new Map(ENV_OVERRIDES.map((e) => [e.path.join('.'), e.name]));
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `pubgate config reference`; a test keeps it equal. -->',
    '',
    'pubgate reads one YAML (or JSON) file, given with `--config` (default `./pubgate.yaml` when it exists).',
    'Unknown keys are errors; every bad field is listed with its path. Relative paths resolve against the',
    "config file's folder. Only the environment variables listed here override the file.",
    '',
    '| key | type | default | environment | description |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const field of listConfigFields()) {
    const def = field.defaultValue === undefined ? '' : `\`${JSON.stringify(field.defaultValue)}\``;
    const env = envByPath.get(field.path);
    lines.push(
      `| \`${field.path}\` | ${field.type} | ${def} | ${env === undefined ? '' : `\`${env}\``} | ${field.description} |`,
    );
  }
  return lines.join('\n') + '\n';
}

/** The commented YAML that `pubgate init` writes: every field, defaults shown, optional ones commented out. */
export function renderConfigTemplate(): string {
  const lines = ['# pubgate configuration. Reference: docs/config.md (`pubgate config reference`).', ''];
  // An optional group with no default is written commented out, with everything inside it.
  const commented: string[] = [];
  for (const field of listConfigFields()) {
    const depth = field.path.split('.').length - 1;
    const indent = '  '.repeat(depth);
    const key = field.path.split('.').at(-1)!;
    const off = commented.some((p) => field.path.startsWith(`${p}.`)) ? '# ' : '';
    if (field.description !== '') lines.push(`${indent}# ${field.description}`);
    if (field.isGroup) {
      if (field.optional) commented.push(field.path);
      lines.push(`${indent}${off || (field.optional ? '# ' : '')}${key}:`);
    } else if (field.defaultValue === undefined) lines.push(`${indent}# ${key}:`);
    else lines.push(`${indent}${off}${key}: ${JSON.stringify(field.defaultValue)}`);
  }
  return lines.join('\n') + '\n';
}
