/** Registers every command on the program. One line per command module. */
import type { Command } from 'commander';
import { registerAdminCommands, registerLockdownCommand } from './admin.ts';
import { registerAuditCommand } from './audit.ts';
import { registerReleaseCommands } from './release.ts';
import { registerServeCommands } from './serve.ts';
import { registerSigningCommands } from './signing.ts';
import { registerInventoryCommands } from './inventory.ts';
import { registerScanCommand } from './scan.ts';

/** Adds all pubgate commands to `program`. */
export function registerCommands(program: Command): void {
  registerServeCommands(program);
  registerReleaseCommands(program);
  registerAdminCommands(program);
  registerLockdownCommand(program);
  registerSigningCommands(program);
  registerInventoryCommands(program);
  registerScanCommand(program);
  registerAuditCommand(program);
}
