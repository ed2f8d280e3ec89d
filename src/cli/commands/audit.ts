/** `pubgate audit`: placeholder until the command lands. */
import type { Command } from 'commander';

/** Registers `pubgate audit`. */
export function registerAuditCommand(program: Command): void {
  void program;
}
