/**
 * The pubgate command line. Thin: each command lives in `commands/<name>.ts`, parses its flags,
 * calls a capability through its `index.ts`, and prints. Errors become exit codes in one table.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor, formatCliError } from './exit-codes.ts';
import { registerCommands } from './commands/index.ts';

/** Builds the program; exported for tests of `--help`. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('pubgate')
    .description(
      'pubgate: a release gate for package registries.\n' +
        'A release reaches the registry only through the gate, byte-for-byte what was checked and approved.',
    )
    .version('0.1.0', '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return error.exitCode;
    }
    process.stderr.write(`${formatCliError(error)}\n`);
    return exitCodeFor(error);
  }
}
