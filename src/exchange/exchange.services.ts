import { londonDate } from '../agreements/agreement-dates.ts';
import { AGREEMENT_EVENT_JOB } from '../agreements/agreement-events.ts';
import { AgreementService } from '../agreements/agreement.service.ts';
import { emailDecisionNotices, emailReminders } from '../agreements/agreement-emails.ts';
import { AgreementWorkflow } from '../agreements/agreement.workflow.ts';
import { INDEX_SUBJECTS_JOB } from '../audit/disclosure-index.ts';
import { DisclosureLog } from '../audit/disclosure.repository.ts';
import type { Mailer } from '../accounts/mailer.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import { enqueueJob, JobWorker, PermanentJobError, type Clock } from '../jobs/job-queue.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Logger } from '../logger.ts';
import { ExportService } from './export.service.ts';
import { ReleaseService } from './release.service.ts';
import { ExchangeSigner } from './signing.ts';
import { WEBHOOK_DELIVER_JOB, WebhookService } from './webhook.service.ts';

export const DATASET_VERSION_JOB = 'exchange.dataset_version';
export const DAILY_CHECK_JOB = 'agreements.daily_check';

/** Agreements, releases, exports, notifications and the job worker that runs their background work. */
export interface ExchangeServices {
  agreements: AgreementService;
  workflow: AgreementWorkflow;
  signer: ExchangeSigner;
  releases: ReleaseService;
  exports: ExportService;
  webhooks: WebhookService;
  worker: JobWorker;
  /** Queues today's agreement check unless it is queued already; the check queues the next day's. */
  scheduleDailyCheck(): Promise<void>;
}

export interface ExchangeInputs {
  config: Config;
  db: Database;
  keys: KeyRing;
  logger: Logger;
  mailer?: Mailer;
  /** The time source for terms checks and the workflow; tests pass a controllable clock. */
  clock?: Clock;
  disclosures?: DisclosureLog;
  /** Rows per export chunk; the terms are checked before each. */
  exportChunkRows?: number;
  /** Releases of more rows than this queue their subjects for the indexing job; see INLINE_SUBJECT_LIMIT. */
  inlineSubjectLimit?: number;
}

export function createExchangeServices(inputs: ExchangeInputs): ExchangeServices {
  const { config, db, keys, logger } = inputs;
  const clock = inputs.clock ?? (() => new Date());
  const agreements = new AgreementService(db, clock);
  const workflow = new AgreementWorkflow(
    agreements,
    logger,
    inputs.mailer ? emailReminders(db, inputs.mailer, config.publicUrl) : null,
    inputs.mailer ? emailDecisionNotices(db, inputs.mailer, config.publicUrl) : null,
  );
  const signer = new ExchangeSigner(keys);
  const disclosures = inputs.disclosures ?? new DisclosureLog(keys);
  const releases = new ReleaseService(db, keys, disclosures, clock, inputs.inlineSubjectLimit === undefined ? {} : { inlineSubjectLimit: inputs.inlineSubjectLimit });
  const webhooks = new WebhookService(db, keys, { allowLoopbackHttp: !config.production, clock });
  const worker = new JobWorker(db, logger, { clock });

  worker.register(WEBHOOK_DELIVER_JOB, (job) => webhooks.deliver(job));
  worker.register(INDEX_SUBJECTS_JOB, (job) => indexQueuedSubjects(db, disclosures, job.organisationId));
  worker.register(AGREEMENT_EVENT_JOB, async (job) => {
    const agreementId = String(job.payload.agreement_id);
    const parties = await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return trx.selectFrom('agreement_parties').select('party_organisation_id').where('agreement_id', '=', agreementId).execute();
    });
    await webhooks.fanOut(parties.map((party) => party.party_organisation_id), agreementId, String(job.payload.type), { agreement: job.payload.details });
  });
  worker.register(DATASET_VERSION_JOB, async (job) => {
    const datasetId = String(job.payload.dataset_id);
    const dataset = await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return trx.selectFrom('datasets').select(['slug']).where('id', '=', datasetId).executeTakeFirst();
    });
    for (const agreement of await webhooks.recipientsOfDataset(datasetId)) {
      await webhooks.fanOut(agreement.recipients, agreement.agreementId, 'dataset.version_created', {
        agreement: { reference: agreement.reference },
        dataset: { slug: dataset?.slug ?? null, version: job.payload.version },
      });
    }
  });
  const scheduleDailyCheck = async () => {
    await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await enqueueJob(trx, { kind: DAILY_CHECK_JOB, uniqueKey: `${DAILY_CHECK_JOB}:${londonDate(clock())}` });
    });
  };
  worker.register(DAILY_CHECK_JOB, async () => {
    await workflow.runDailyCheck();
    const tomorrow = new Date(clock().getTime() + 24 * 60 * 60 * 1000);
    await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await enqueueJob(trx, { kind: DAILY_CHECK_JOB, runAt: tomorrow, uniqueKey: `${DAILY_CHECK_JOB}:${londonDate(tomorrow)}` });
    });
  });

  return { agreements, workflow, signer, releases, exports: new ExportService(releases, signer, logger, inputs.exportChunkRows), webhooks, worker, scheduleDailyCheck };
}

/** Disclosures indexed per job transaction, so that no transaction keeps the audit chain head locked for long. */
const INDEX_BATCH = 50;

/**
 * Indexes the queued disclosures of one organisation in batches until none is left. Disclosures that a subject access
 * search or a retention run is indexing at the same moment are skipped, and that caller finishes them.
 */
async function indexQueuedSubjects(db: Database, disclosures: DisclosureLog, organisationId: string | null): Promise<void> {
  if (organisationId === null) throw new PermanentJobError('The subject indexing job has no organisation.');
  for (;;) {
    const indexed = await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return disclosures.indexQueued(trx, { organisationId }, { skipLocked: true, limit: INDEX_BATCH });
    });
    if (indexed < INDEX_BATCH) return;
  }
}
