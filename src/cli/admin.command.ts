import { parseArgs } from 'node:util';
import { createPlatformAdmin } from '../accounts/platform-admin.ts';
import { UsageError, type Command } from './command.ts';
import { openServices } from './runtime.ts';

export const adminCommand: Command = {
  name: 'admin',
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
      const done = `${created ? 'Created' : 'Promoted'} platform administrator ${email}.`;
      if (!services.accounts.mailer.usesOutbox) {
        process.stdout.write(`${done} A link to set the password was emailed to them. They set up two-factor authentication at first sign-in.\n`);
        return 0;
      }
      // With no SMTP server the link waits in the outbox, which only a signed-in administrator can read, so the
      // operator at the terminal (who already controls the server) is shown it.
      const message = await services.db.owner.selectFrom('outbox').select('text_body').where('recipient', '=', email).orderBy('created_at', 'desc').executeTakeFirst();
      const link = message?.text_body.match(/https?:\/\/\S+/)?.[0];
      process.stdout.write(`${done} Open this single-use link within 1 hour to set the password, then set up two-factor authentication:\n${link ?? '(the link is in the outbox table)'}\n`);
      return 0;
    } finally {
      await services.db.close();
    }
  },
};
