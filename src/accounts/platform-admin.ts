import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { validationError } from '../errors.ts';
import { findUserIdByEmail } from './account-scope.ts';
import { EMAIL_MAX_LENGTH, EMAIL_PATTERN } from './email-address.ts';

/** Rejects an email address given to an operator command, quoting a short one and only the length of a long one. */
export function checkEmailArgument(email: string): void {
  if (email.length > EMAIL_MAX_LENGTH) {
    throw validationError('invalid_email', `The email address is ${email.length} characters long. Give one of ${EMAIL_MAX_LENGTH} characters or fewer.`);
  }
  if (!EMAIL_PATTERN.test(email)) throw validationError('invalid_email', `"${email}" is not an email address. Give one like name@example.org.`);
}

/**
 * Creates a platform administrator, or promotes an existing account, in the platform scope with an audit row. A new
 * account gets a random password that is never shown: the administrator sets one through the password reset link.
 */
export async function createPlatformAdmin(db: Database, email: string): Promise<{ userId: string; created: boolean }> {
  const normalised = email.trim().toLowerCase();
  checkEmailArgument(normalised);
  const unusable = await hash(randomBytes(32).toString('base64url'));
  return db.app.transaction().execute(async (trx) => {
    await setPlatformScope(trx);
    const existing = await findUserIdByEmail(trx, normalised);
    let userId = existing;
    if (userId === null) {
      const row = await trx
        .insertInto('users')
        .values({ email: normalised, display_name: normalised.split('@')[0]!, password_hash: unusable, is_platform_admin: true })
        .returning('id')
        .executeTakeFirstOrThrow();
      userId = row.id;
    } else {
      await trx.updateTable('users').set({ is_platform_admin: true }).where('id', '=', userId).execute();
    }
    await appendAuditEvent(trx, { organisationId: null, actorUserId: null, actorKind: 'system', action: 'platform.admin_granted', subjectType: 'user', subjectId: userId, details: { via: 'cli', new_account: existing === null } });
    return { userId, created: existing === null };
  });
}
