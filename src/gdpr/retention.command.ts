import { UsageError, type Command } from '../cli/command.ts';
import { openServices } from '../cli/runtime.ts';
import type { RetentionReport } from './retention.service.ts';

/** Sink for the lines of a report: standard output or standard error in the command. */
type Output = (line: string) => void;

/**
 * Writes what a retention run removed and each dataset it could not change, and returns the exit status: 1 when any
 * dataset failed, so that a scheduler such as cron reports the run as failed.
 */
export function reportRetention(report: RetentionReport, out: Output, errors: Output): number {
  for (const removed of report.removed) out(`removed version ${removed.version} of dataset ${removed.datasetSlug} (${removed.datasetId}, table ${removed.tableName})`);
  const slugs = new Map(report.removed.map((removed) => [removed.datasetId, removed.datasetSlug]));
  for (const datasetId of report.withdrawn) out(`withdrew dataset ${slugs.get(datasetId) ?? datasetId}: its current version passed the retention period`);
  out(`${report.removed.length} version(s) removed, ${report.withdrawn.length} dataset(s) withdrawn`);
  for (const failure of report.failed) {
    errors(`civic retention: could not remove the expired versions of dataset ${failure.datasetSlug} (${failure.datasetId}), which is unchanged: ${failure.message}`);
  }
  if (report.failed.length === 0) return 0;
  errors(`civic retention: ${report.failed.length} dataset(s) failed. Fix the cause named above and run "civic retention run" again.`);
  return 1;
}

/** `civic retention run`: removes expired dataset versions once, for a scheduler such as cron to call. */
export const retentionCommand: Command = {
  name: 'retention',
  usage: 'civic retention run',
  async run(argv) {
    if (argv.length !== 1 || argv[0] !== 'run') {
      throw new UsageError(argv.length === 0 ? 'Give the action: run.' : `Unknown arguments "${argv.join(' ')}". Run "civic retention run".`);
    }
    const services = await openServices();
    try {
      const report = await services.gdpr.retention.run();
      return reportRetention(report, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`));
    } finally {
      await services.db.close();
    }
  },
};
