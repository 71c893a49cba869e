import { AppError } from '../errors.ts';
import { ConfigError } from '../config.ts';
import { FolderLockedError } from '../db/folder-lock.ts';
import { MigrationError } from '../db/database.ts';
import { adminCommand } from './admin.command.ts';
import { auditCommand } from './audit.command.ts';
import { UsageError, type Command } from './command.ts';
import { importCommand } from './import.command.ts';
import { migrateCommand } from './migrate.command.ts';
import { publishCommand } from './publish.command.ts';
import { serveCommand } from './serve.command.ts';
import { verifyExportCommand } from './verify-export.command.ts';
import { retentionCommand } from '../gdpr/retention.command.ts';

const commands: Command[] = [serveCommand, adminCommand, auditCommand, importCommand, publishCommand, migrateCommand, verifyExportCommand, retentionCommand];

function printHelp(): void {
  const lines = ['Usage: civic COMMAND [options]', '', 'Commands:'];
  for (const command of commands) lines.push(`  ${command.name.padEnd(14)} ${command.summary}`);
  lines.push('', 'Run "civic COMMAND --help" for the options of one command.');
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Errors whose message is written for the user; anything else is a defect and shows its stack. */
function isExpected(error: unknown): error is Error {
  return error instanceof AppError || error instanceof ConfigError || error instanceof FolderLockedError || error instanceof MigrationError;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    printHelp();
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`civic: unknown command "${name}". Run "civic --help" to list the commands.\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\n${command.summary}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    const usageProblem = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (usageProblem) {
      process.stderr.write(`civic ${command.name}: ${(error as Error).message}\nUsage: ${command.usage}\n`);
      return 2;
    }
    if (isExpected(error)) {
      process.stderr.write(`civic ${command.name}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
