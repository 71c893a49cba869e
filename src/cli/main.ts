import { AppError } from '../errors.ts';
import { ConfigError } from '../config.ts';
import { FolderLockedError } from '../db/folder-lock.ts';
import { MigrationError } from '../db/database.ts';
import { UsageError, type CommandEntry } from './command.ts';

// Each command's module is loaded only when it runs, so `civic --help` and the light commands start without loading
// the whole service.
const commands: CommandEntry[] = [
  { name: 'serve', summary: 'Start the HTTP server (portal, CKAN API and native API)', load: async () => (await import('./serve.command.ts')).serveCommand },
  { name: 'admin', summary: 'Create a platform administrator or invite an organisation member', load: async () => (await import('./admin.command.ts')).adminCommand },
  { name: 'audit', summary: 'Verify the tamper-evident audit log, sign checkpoints, prove and export entries', load: async () => (await import('./audit.command.ts')).auditCommand },
  { name: 'import', summary: 'Load a CSV, XLSX or ODS file as a new version of a dataset', load: async () => (await import('./import.command.ts')).importCommand },
  { name: 'publish', summary: 'Fix personal data or small counts in a dataset, record a justification, and make it open', load: async () => (await import('./publish.command.ts')).publishCommand },
  { name: 'migrate', summary: 'Apply pending database migrations', load: async () => (await import('./migrate.command.ts')).migrateCommand },
  { name: 'verify-export', summary: 'Check the signature of a file received from the exchange API', load: async () => (await import('./verify-export.command.ts')).verifyExportCommand },
  { name: 'retention', summary: 'Remove dataset versions held longer than their retention period', load: async () => (await import('../gdpr/retention.command.ts')).retentionCommand },
];

function printHelp(): void {
  const lines = ['Usage: civic COMMAND [options]', '', 'Commands:'];
  for (const command of commands) lines.push(`  ${command.name.padEnd(14)} ${command.summary}`);
  lines.push('', 'Run "civic COMMAND --help" for the options of one command.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** File system errors a wrong path causes; Node's message names the path. */
const FILE_ERRORS = new Set(['ENOENT', 'EISDIR', 'ENOTDIR', 'EACCES', 'EEXIST']);

/** Errors whose message is written for the user; anything else is a defect and shows its stack. */
function isExpected(error: unknown): error is Error {
  if (error instanceof AppError || error instanceof ConfigError || error instanceof FolderLockedError || error instanceof MigrationError) return true;
  return error instanceof Error && FILE_ERRORS.has((error as NodeJS.ErrnoException).code ?? '');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name === undefined ? 2 : 0;
  }
  const entry = commands.find((candidate) => candidate.name === name);
  if (!entry) {
    process.stderr.write(`civic: unknown command "${name}". Run "civic --help" to list the commands.\n`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\n${entry.summary}\n${command.help === undefined ? '' : `\n${command.help}\n`}`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const usageProblem = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (usageProblem) {
      process.stderr.write(`civic ${command.name}: ${usageMessage(error as NodeJS.ErrnoException, command.usage)}\nUsage: ${command.usage}\n`);
      return 2;
    }
    if (isExpected(error)) {
      // Node's file system messages end without a full stop and say nothing of what to do.
      const message = FILE_ERRORS.has((error as NodeJS.ErrnoException).code ?? '') ? `${error.message}. Check the path and try again.` : error.message;
      process.stderr.write(`civic ${command.name}: ${message}\n`);
      return 1;
    }
    throw error;
  }
}

// A reader that stops early, as `head` does, closes the pipe, and later writes fail with EPIPE. That is no fault of the
// command, so it ends quietly, as Unix tools do when SIGPIPE ends them. Any change the command had not committed by
// then rolls back with its transaction.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

process.exitCode = await main(process.argv.slice(2));

/** Counts the single-character edits that turn `from` into `to` (Levenshtein distance). */
function editDistance(from: string, to: string): number {
  let previous = Array.from({ length: to.length + 1 }, (_value, index) => index);
  for (let i = 1; i <= from.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= to.length; j += 1) {
      const substitution = previous[j - 1]! + (from[i - 1] === to[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[to.length]!;
}

/**
 * Rewrites Node's message for an unknown option in our words, with the nearest option of the command's usage, so
 * `--organization` gets `--organisation`. Other usage messages pass through.
 */
function usageMessage(error: NodeJS.ErrnoException, usage: string): string {
  const unknown = error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /Unknown option '(--?[^']+)'/.exec(error.message)?.[1] : undefined;
  if (unknown === undefined) return error.message;
  const known = [...new Set(usage.match(/--[a-z][a-z-]*/g) ?? [])];
  const nearest = known.map((option) => ({ option, distance: editDistance(unknown, option) })).sort((a, b) => a.distance - b.distance)[0];
  const hint = nearest !== undefined && nearest.distance <= 3 ? ` Did you mean ${nearest.option}?` : ' See the options below.';
  return `Unknown option '${unknown}'.${hint}`;
}
