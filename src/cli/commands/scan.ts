/** `pubgate scan`: placeholder until the command lands. */
import type { Command } from 'commander';

/** Registers `pubgate scan`. */
export function registerScanCommand(program: Command): void {
  void program;
}
