import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { Logger } from '../logger.ts';

/**
 * A job queue in PostgreSQL: jobs are rows, claimed with `FOR UPDATE SKIP LOCKED` so that each job runs once however
 * many instances poll, and leased with `locked_until` so a job whose worker died becomes due again.
 */
export interface NewJob {
  kind: string;
  payload?: Record<string, unknown>;
  organisationId?: string | null;
  runAt?: Date;
  maxAttempts?: number;
  /** A job with the same key is queued only once. */
  uniqueKey?: string;
}

export interface ClaimedJob {
  id: string;
  kind: string;
  organisationId: string | null;
  payload: Record<string, unknown>;
  /** Attempts so far, including this one. */
  attempt: number;
  maxAttempts: number;
}

export type JobHandler = (job: ClaimedJob) => Promise<void>;

/** A failure that retrying cannot fix, such as a deleted subscription; the job is marked failed at once. */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}

export type Clock = () => Date;

/** Queues a job in the caller's transaction, so it exists exactly when the change that caused it commits. */
export async function enqueueJob(trx: Kysely<DB>, job: NewJob): Promise<void> {
  await trx
    .insertInto('jobs')
    .values({
      kind: job.kind,
      payload: JSON.stringify(job.payload ?? {}),
      organisation_id: job.organisationId ?? null,
      run_at: job.runAt ?? new Date(),
      max_attempts: job.maxAttempts ?? 8,
      unique_key: job.uniqueKey ?? null,
    })
    .onConflict((conflict) => conflict.column('unique_key').doNothing())
    .execute();
}

/** Delay before retry number `attempt` (1-based): 30 seconds doubling each time, at most 6 hours, with ±10% jitter. */
export function retryDelayMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 6 * 60 * 60 * 1000);
  return Math.round(base * (0.9 + random() * 0.2));
}

export interface WorkerOptions {
  clock?: Clock;
  /** How long a claimed job stays hidden from other workers, in milliseconds. */
  leaseMs?: number;
  /** Wait between polls when the queue is empty, in milliseconds. */
  pollMs?: number;
}

export class JobWorker {
  readonly #handlers = new Map<string, JobHandler>();
  readonly #id = `worker-${randomUUID().slice(0, 8)}`;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  #running: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly logger: Logger,
    options: WorkerOptions = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
    this.#leaseMs = options.leaseMs ?? 5 * 60 * 1000;
    this.#pollMs = options.pollMs ?? 2000;
  }

  register(kind: string, handler: JobHandler): void {
    this.#handlers.set(kind, handler);
  }

  /** Claims the next due job, if any; the claim commits before the handler runs. */
  async claim(): Promise<ClaimedJob | null> {
    const now = this.#clock();
    const leaseEnd = new Date(now.getTime() + this.#leaseMs);
    const kinds = [...this.#handlers.keys()];
    if (kinds.length === 0) return null;
    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const { rows } = await sql<{ id: string; kind: string; organisation_id: string | null; payload: Record<string, unknown>; attempts: number; max_attempts: number }>`
        update jobs set attempts = attempts + 1, locked_until = ${leaseEnd}, locked_by = ${this.#id}
        where id = (
          select id from jobs
          where status = 'pending' and run_at <= ${now} and (locked_until is null or locked_until <= ${now})
            and kind in (${sql.join(kinds)})
          order by run_at, id
          for update skip locked
          limit 1
        )
        returning id, kind, organisation_id, payload, attempts, max_attempts`.execute(trx);
      const row = rows[0];
      if (!row) return null;
      return { id: String(row.id), kind: row.kind, organisationId: row.organisation_id, payload: row.payload, attempt: row.attempts, maxAttempts: row.max_attempts };
    });
  }

  /** Runs one claimed job and records the outcome: completed, scheduled for retry, or failed. */
  async run(job: ClaimedJob): Promise<'completed' | 'retry' | 'failed'> {
    const handler = this.#handlers.get(job.kind)!;
    const log = this.logger.child({ jobId: job.id, kind: job.kind, attempt: job.attempt });
    try {
      await handler(job);
    } catch (error) {
      const permanent = error instanceof PermanentJobError || job.attempt >= job.maxAttempts;
      const message = error instanceof Error ? error.message : String(error);
      const runAt = new Date(this.#clock().getTime() + retryDelayMs(job.attempt));
      await this.#update(job.id, permanent ? { status: 'failed', finished_at: this.#clock(), last_error: message, locked_until: null } : { run_at: runAt, last_error: message, locked_until: null });
      if (permanent) log.error({ err: error }, 'job failed');
      else log.warn({ err: error, retryAt: runAt.toISOString() }, 'job will be retried');
      return permanent ? 'failed' : 'retry';
    }
    await this.#update(job.id, { status: 'completed', finished_at: this.#clock(), locked_until: null, last_error: null });
    log.debug('job completed');
    return 'completed';
  }

  async #update(id: string, values: Record<string, unknown>): Promise<void> {
    await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await trx.updateTable('jobs').set(values).where('id', '=', id).execute();
    });
  }

  /** Runs due jobs until none is due or `limit` have run; returns how many ran. Tests and commands call this. */
  async runDue(limit = 1000): Promise<number> {
    let count = 0;
    while (count < limit) {
      const job = await this.claim();
      if (!job) break;
      await this.run(job);
      count += 1;
    }
    return count;
  }

  /** Starts polling in the background until stop() is called. */
  start(): void {
    if (this.#running) return;
    this.#stopping = false;
    this.logger.info({ worker: this.#id, kinds: [...this.#handlers.keys()] }, 'job worker started');
    this.#running = this.#loop();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#running;
    this.#running = null;
    this.logger.info({ worker: this.#id }, 'job worker stopped');
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      let ran = 0;
      try {
        ran = await this.runDue(50);
      } catch (error) {
        this.logger.error({ err: error, worker: this.#id }, 'job worker could not claim jobs');
      }
      if (ran === 0 && !this.#stopping) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#pollMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = null;
      }
    }
  }
}
