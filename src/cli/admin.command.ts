import { parseArgs } from 'node:util';
import { createPlatformAdmin } from '../accounts/platform-admin.ts';
import { UsageError, type Command } from './command.ts';
import { openServices } from './runtime.ts';

export const adminCommand: Command = {
  name: 'admin',
  summary: 'Create a platform administrator',
  usage: 'civic admin create-platform-admin EMAIL',
  async run(argv) {
    const { positionals } = parseArgs({ args: argv, options: {}, allowPositionals: true });
    const [action, email, ...extra] = positionals;
    if (action !== 'create-platform-admin' || email === undefined || extra.length > 0) {
      throw new UsageError('Give the action create-platform-admin and one email address.');
    }
    const services = await openServices();
    try {
      const { created } = await createPlatformAdmin(services.db, email);
      await services.accounts.links.requestPasswordReset(email);
      const where = services.accounts.mailer.usesOutbox ? 'the outbox table' : 'their inbox';
      process.stdout.write(`${created ? 'Created' : 'Promoted'} platform administrator ${email}. A link to set the password is in ${where}; they set up two-factor authentication at first sign-in.\n`);
      return 0;
    } finally {
      await services.db.close();
    }
  },
};
