/** Validates a SARIF log against the published 2.1.0 JSON schema (draft-04), shipped by @microsoft/jest-sarif.
 * Its `language` pattern is not a valid unicode regexp, hence `unicodeRegExp: false`. */
import { createRequire } from 'node:module';
import AjvDraft04Module from 'ajv-draft-04';

const require = createRequire(import.meta.url);
const schema = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;
// ajv-draft-04 is CommonJS: its class is the default export's `default`.
const AjvDraft04 = AjvDraft04Module.default;
const ajv = new AjvDraft04({
  allErrors: true,
  strict: false,
  unicodeRegExp: false,
  validateFormats: false,
  logger: false,
});
const validate = ajv.compile(schema);

/** Returns the schema errors of `log` as strings; empty when valid. */
export function sarifSchemaErrors(log: unknown): string[] {
  if (validate(log)) return [];
  return (validate.errors ?? []).map(
    (e: { instancePath: string; message?: string }) => `${e.instancePath} ${e.message ?? ''}`,
  );
}
