/** Coded errors of the secret scanner. Messages never carry a matched value. */
import { PubgateError } from '../errors/index.ts';

/** A scan could not read or understand its input (unreadable path, corrupt tarball, not a git repository). */
export class ScanInputError extends PubgateError {}
/** Scanner configuration (custom rules, baseline) is invalid. */
export class ScanConfigError extends PubgateError {}
/** The agent could not talk to the gate. */
export class ScanAgentError extends PubgateError {}
