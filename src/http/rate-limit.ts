import { createHmac } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { AppError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';

export interface RateLimitRule {
  /** Name of the counter, such as `sign_in_address`. */
  bucket: string;
  /** Requests allowed per window. */
  limit: number;
  windowSeconds: number;
}

/** Sign-in: 10 attempts per client address and 10 per email address in 5 minutes. */
export const SIGN_IN_BY_ADDRESS: RateLimitRule = { bucket: 'sign_in_address', limit: 10, windowSeconds: 300 };
export const SIGN_IN_BY_EMAIL: RateLimitRule = { bucket: 'sign_in_email', limit: 10, windowSeconds: 300 };
/**
 * Second-factor codes: 10 per account in 5 minutes, whatever the client address, so that a stolen password cannot be
 * paired with codes guessed from many addresses against one waiting session.
 */
export const SECOND_FACTOR_BY_USER: RateLimitRule = { bucket: 'second_factor_user', limit: 10, windowSeconds: 300 };
/** Organisation registration: 5 per client address per hour. */
export const REGISTRATION_BY_ADDRESS: RateLimitRule = { bucket: 'registration_address', limit: 5, windowSeconds: 3600 };
/** Password reset requests: 5 per client address and 3 per email address per hour. */
export const RESET_BY_ADDRESS: RateLimitRule = { bucket: 'reset_address', limit: 5, windowSeconds: 3600 };
export const RESET_BY_EMAIL: RateLimitRule = { bucket: 'reset_email', limit: 3, windowSeconds: 3600 };
/** New email confirmation links asked for from the account page: 3 per account per hour. */
export const VERIFICATION_BY_USER: RateLimitRule = { bucket: 'verification_user', limit: 3, windowSeconds: 3600 };

/**
 * Fixed-window counters in PostgreSQL, so every instance behind the load balancer counts the same requests. Keys
 * (client addresses, email addresses) are stored only as HMACs.
 */
export class RateLimiter {
  readonly #key: Buffer;

  constructor(
    private readonly db: { app: Kysely<DB> },
    keys: KeyRing,
  ) {
    this.#key = keys.derive('rate-limit');
  }

  /** Counts one request for `key`; throws AppError `rate_limited` once the window's limit is passed. */
  async hit(rule: RateLimitRule, key: string): Promise<void> {
    const keyHash = createHmac('sha256', this.#key).update(key.toLowerCase(), 'utf8').digest('hex');
    const window = rule.windowSeconds;
    const { hits, secondsLeft } = await this.db.app.transaction().execute(async (trx) => {
      const { rows } = await sql<{ hits: number; window_start: Date; seconds_left: number }>`
        insert into rate_limit_counters (bucket, key_hash, window_start, hits)
        values (${rule.bucket}, ${keyHash}, to_timestamp(floor(extract(epoch from now()) / ${window}) * ${window}), 1)
        on conflict (bucket, key_hash, window_start) do update set hits = rate_limit_counters.hits + 1
        returning hits, window_start, ceil(extract(epoch from window_start) + ${window} - extract(epoch from now()))::integer as seconds_left`.execute(trx);
      const row = rows[0]!;
      // The first hit of a new window clears this key's older windows, so the table stays small without a sweeper.
      if (row.hits === 1) {
        await trx.deleteFrom('rate_limit_counters').where('bucket', '=', rule.bucket).where('key_hash', '=', keyHash).where('window_start', '<', row.window_start).execute();
      }
      return { hits: row.hits, secondsLeft: Math.max(1, Number(row.seconds_left)) };
    });
    if (hits > rule.limit) {
      const minutes = Math.ceil(secondsLeft / 60);
      const wait = minutes === 1 ? '1 minute' : `${minutes} minutes`;
      throw new AppError('rate_limited', 'rate_limited', `Too many attempts. Wait ${wait} and try again.`, { detail: `bucket ${rule.bucket}`, retryAfterSeconds: secondsLeft });
    }
  }
}
