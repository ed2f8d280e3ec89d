/** Configuration: one schema, parsed once into a frozen Config. */
export type { Config, ConfigInput } from './schema.ts';
export { configSchema, DEFAULTS } from './schema.ts';
export { loadConfig, ENV_OVERRIDES } from './load.ts';
export type { LoadConfigOptions } from './load.ts';
export { renderConfigReference, renderConfigTemplate, listConfigFields } from './reference.ts';
