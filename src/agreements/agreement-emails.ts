import type { Mailer } from '../accounts/mailer.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { APPROVER_ROLES } from './agreement.terms.ts';
import type { NoticeSender, ReminderSender } from './agreement.workflow.ts';

/** Emails each named approver about a coming review, through the mailer (or its outbox) in the platform scope. */
export function emailReminders(db: Database, mailer: Mailer, publicUrl: string): ReminderSender {
  return async (reminder) => {
    await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      if (reminder.approverUserIds.length === 0) return;
      const users = await trx.selectFrom('users').select(['email']).where('id', 'in', reminder.approverUserIds).execute();
      for (const user of users) {
        await mailer.send(
          {
            to: user.email,
            subject: `Review due: information sharing agreement ${reminder.reference}`,
            text: [
              `The information sharing agreement ${reminder.reference} (${reminder.title}) is due for review on ${reminder.reviewDate}.`,
              'Data stops being released under it after that date until an amended version is approved by every party.',
              `Review it at ${publicUrl}/agreements/${reminder.reference}/manage`,
            ].join('\n\n'),
          },
          trx,
        );
      }
    });
  };
}

/** Emails each recipient of a decision notice, with the page where they act next. */
export function emailDecisionNotices(db: Database, mailer: Mailer, publicUrl: string): NoticeSender {
  return async (notice) => {
    await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const users = await trx.selectFrom('users').select(['email']).where('id', 'in', notice.recipientUserIds).execute();
      const name = `information sharing agreement ${notice.reference}`;
      let subject: string;
      let lines: string[];
      if (notice.kind === 'awaiting_decision') {
        subject = `Decision needed: ${name}`;
        lines = [
          `Version ${notice.version} of the ${name} (${notice.title}) is waiting for your decision as a named approver.`,
          `Read the terms and approve or decline at ${publicUrl}/agreements/${notice.reference}/review`,
        ];
      } else if (notice.kind === 'declined') {
        const decline = notice.decline!;
        const organisation = await trx.selectFrom('organisations').select('name').where('id', '=', decline.organisationId).executeTakeFirst();
        subject = `Declined: ${name}`;
        lines = [
          `The ${APPROVER_ROLES[decline.role].toLowerCase()} of ${organisation?.name ?? 'a party'} declined version ${notice.version} of the ${name} (${notice.title}), with this reason:`,
          decline.comment,
          `The version is back in draft. The provider can edit it and submit it again at ${publicUrl}/agreements/${notice.reference}/manage`,
        ];
      } else {
        subject = `In force: ${name}`;
        lines = [
          `Every approver has approved version ${notice.version} of the ${name} (${notice.title}), and it is now in force.`,
          `See it at ${publicUrl}/agreements/${notice.reference}/manage`,
        ];
      }
      for (const user of users) await mailer.send({ to: user.email, subject, text: lines.join('\n\n') }, trx);
    });
  };
}
