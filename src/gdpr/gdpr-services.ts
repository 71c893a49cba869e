import type { AuditServices } from '../audit/audit-services.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope } from '../db/tenant.ts';
import type { ExchangeServices } from '../exchange/exchange.services.ts';
import { PermanentJobError, type Clock } from '../jobs/job-queue.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Logger } from '../logger.ts';
import { DpiaService } from './dpia.service.ts';
import { NOTICE_WEBHOOK_JOB, RectificationService } from './rectification.service.ts';
import { RETENTION_JOB, RetentionService } from './retention.service.ts';

/** Data protection records: Article 19 notices, DPIAs and dataset retention. */
export interface GdprServices {
  rectifications: RectificationService;
  dpias: DpiaService;
  retention: RetentionService;
}

export interface GdprInputs {
  db: Database;
  keys: KeyRing;
  audit: AuditServices;
  exchange: ExchangeServices;
  logger: Logger;
  clock?: Clock;
  /** Days after which an unacknowledged notice is listed as overdue. */
  overdueAfterDays?: number;
}

/** Builds the services and registers the notice webhook and daily retention jobs on the exchange's job worker. */
export function createGdprServices(inputs: GdprInputs): GdprServices {
  const { db } = inputs;
  const rectifications = new RectificationService(db, inputs.keys, inputs.audit.disclosures, { clock: inputs.clock, overdueAfterDays: inputs.overdueAfterDays });
  inputs.exchange.worker.register(NOTICE_WEBHOOK_JOB, async (job) => {
    const noticeId = String(job.payload.notice_id);
    const event = await db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return rectifications.webhookEvent(trx, noticeId);
    });
    if (!event) throw new PermanentJobError(`Notice ${noticeId} no longer exists.`);
    // NOTE: a notice covering several agreements reaches only subscriptions for every agreement, not those limited
    // to one of them, because fanOut filters by a single agreement.
    await inputs.exchange.webhooks.fanOut([event.recipientId], event.agreementId, event.type, event.data);
  });
  const retention = new RetentionService(db, inputs.logger, inputs.clock, inputs.audit.disclosures);
  inputs.exchange.worker.register(RETENTION_JOB, async () => {
    await retention.run();
    await retention.schedule(new Date((inputs.clock?.() ?? new Date()).getTime() + 24 * 60 * 60 * 1000));
  });
  return { rectifications, dpias: new DpiaService(db, inputs.clock), retention };
}
