/** Registers every command on the program. One line per command module. */
import type { Command } from 'commander';
import { registerAuditCommand } from './audit.ts';
import { registerScanCommand } from './scan.ts';

/** Adds all pubgate commands to `program`. */
export function registerCommands(program: Command): void {
  registerScanCommand(program);
  registerAuditCommand(program);
}
