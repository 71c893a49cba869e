import type { Mailer } from '../accounts/mailer.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { NoticeSender, ReminderSender } from './agreement.workflow.ts';

/** Emails one message to each of `userIds`, reading their addresses in the platform scope. */
async function emailUsers(db: Database, mailer: Mailer, userIds: string[], subject: string, lines: string[]): Promise<void> {
  if (userIds.length === 0) return;
  await db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const users = await trx.selectFrom('users').select(['email']).where('id', 'in', userIds).execute();
    for (const user of users) await mailer.send({ to: user.email, subject, text: lines.join('\n\n') }, trx);
  });
}

/** Emails each named approver about a coming review, through the mailer (or its outbox) in the platform scope. */
export function emailReminders(db: Database, mailer: Mailer, publicUrl: string): ReminderSender {
  return (reminder) =>
    emailUsers(db, mailer, reminder.approverUserIds, `Review due: information sharing agreement ${reminder.reference}`, [
      `The information sharing agreement ${reminder.reference} (${reminder.title}) is due for review on ${reminder.reviewDate}.`,
      'Data stops being released under it after that date until an amended version is approved by every party.',
      `Review it at ${publicUrl}/agreements/${reminder.reference}/manage`,
    ]);
}

/** Emails each recipient of a decision notice, with the page where they act next. */
export function emailDecisionNotices(db: Database, mailer: Mailer, publicUrl: string): NoticeSender {
  return (notice) => {
    const name = `information sharing agreement ${notice.reference}`;
    const manage = `${publicUrl}/agreements/${notice.reference}/manage`;
    if (notice.kind === 'awaiting_decision') {
      return emailUsers(db, mailer, notice.recipientUserIds, `Decision needed: ${name}`, [
        `Version ${notice.version} of the ${name} (${notice.title}) is waiting for your decision as a named approver.`,
        `Read the terms and approve or decline at ${publicUrl}/agreements/${notice.reference}/review`,
      ]);
    }
    if (notice.kind === 'declined') {
      const decline = notice.decline!;
      return emailUsers(db, mailer, notice.recipientUserIds, `Declined: ${name}`, [
        `${decline.by} declined version ${notice.version} of the ${name} (${notice.title}), with this reason:`,
        decline.comment,
        `The version is back in draft. The provider can edit it and submit it again at ${manage}`,
      ]);
    }
    return emailUsers(db, mailer, notice.recipientUserIds, `In force: ${name}`, [
      `Every approver has approved version ${notice.version} of the ${name} (${notice.title}), and it is now in force.`,
      `See it at ${manage}`,
    ]);
  };
}
