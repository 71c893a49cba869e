/** One subcommand of `civic`. `run` returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  run(argv: string[]): Promise<number>;
}

/** Wrong arguments; the CLI prints the message and the command's usage and exits with status 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
