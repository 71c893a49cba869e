import { UsageError, type Command } from '../cli/command.ts';
import { openServices } from '../cli/runtime.ts';

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
      for (const removed of report.removed) process.stdout.write(`removed version ${removed.version} of dataset ${removed.datasetId} (table ${removed.tableName})\n`);
      for (const datasetId of report.withdrawn) process.stdout.write(`withdrew dataset ${datasetId}: its current version passed the retention period\n`);
      process.stdout.write(`${report.removed.length} version(s) removed, ${report.withdrawn.length} dataset(s) withdrawn\n`);
      return 0;
    } finally {
      await services.db.close();
    }
  },
};
