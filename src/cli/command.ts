/** One subcommand of `civic`. `run` returns the process exit code. */
export interface Command {
  name: string;
  usage: string;
  /** Text explaining each action and option, printed by `--help` after the usage. */
  help?: string;
  run(argv: string[]): Promise<number>;
}

/** A subcommand as `civic --help` lists it, with its module loaded only when it runs. */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Wrong arguments; the CLI prints the message and the command's usage and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
