import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { openServices } from './runtime.ts';

export const migrateCommand: Command = {
  name: 'migrate',
  usage: 'civic migrate',
  async run(argv) {
    parseArgs({ args: argv, options: {} });
    // Opening the services applies pending migrations and logs their names.
    const services = await openServices();
    await services.db.close();
    process.stdout.write('Database is up to date.\n');
    return 0;
  },
};
