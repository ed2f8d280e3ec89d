/** Coded errors of the identity inventory and compliance report (`ERR_INVENTORY_*`). */
import { PubgateError } from '../errors/index.ts';

/** An inventory failure caused by bad input (an import file, a mapping, a webhook answer). */
export class InventoryError extends PubgateError {}

/** Stable codes of {@link InventoryError}. */
export const INVENTORY_ERROR_CODES = Object.freeze({
  importUnreadable: 'ERR_INVENTORY_IMPORT_UNREADABLE',
  importParse: 'ERR_INVENTORY_IMPORT_PARSE',
  importInvalid: 'ERR_INVENTORY_IMPORT_INVALID',
  unknownControlId: 'ERR_INVENTORY_UNKNOWN_CONTROL_ID',
  badFormat: 'ERR_INVENTORY_BAD_FORMAT',
  badDuration: 'ERR_INVENTORY_BAD_DURATION',
  webhookUrl: 'ERR_INVENTORY_WEBHOOK_URL',
  webhookFailed: 'ERR_INVENTORY_WEBHOOK_FAILED',
} as const);
