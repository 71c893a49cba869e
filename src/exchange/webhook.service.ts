import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import { sql } from 'kysely';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Database } from '../db/database.ts';
import { setPlatformScope, withOrganisation } from '../db/tenant.ts';
import { notFound, validationError } from '../errors.ts';
import { enqueueJob, PermanentJobError, type ClaimedJob, type Clock } from '../jobs/job-queue.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { isLoopbackAddress, isNonPublicAddress, postJson, publicLookup, type Resolver } from './webhook-address.ts';

export const WEBHOOK_DELIVER_JOB = 'webhook.deliver';
export const SIGNATURE_HEADER = 'civic-webhook-signature';
const DELIVERY_TIMEOUT_MS = 10_000;

/** A notification as delivered: no personal data, only references, versions and statuses. */
export interface WebhookEvent {
  id: string;
  type: string;
  occurred_at: string;
  data: Record<string, unknown>;
}

export interface Subscriber {
  organisationId: string;
  userId: string;
  requestId?: string;
}

/**
 * Webhook subscriptions of recipient organisations and the delivery of events to them. Each body is signed with
 * HMAC-SHA-256 under a secret per subscription (`Civic-Webhook-Signature: sha256=<hex>`). The secret is derived from
 * the master key and the subscription id, so it is never stored and is shown once, at subscription.
 */
/** A failed delivery attempt. The job queue retries it until its attempts run out, and logs it with these ids. */
export class WebhookDeliveryError extends Error {
  override name = 'WebhookDeliveryError';

  constructor(
    message: string,
    readonly subscriptionId: string,
    readonly eventId: string,
    /** The receiver's HTTP status, or null when no response came back. */
    readonly statusCode: number | null,
  ) {
    super(message);
  }
}

export class WebhookService {
  /** Resolves receivers' host names, refusing any that lead to a non-public address (see publicLookup). */
  readonly #lookup: ReturnType<typeof publicLookup>;

  constructor(
    private readonly db: Database,
    private readonly keys: KeyRing,
    private readonly options: { allowLoopbackHttp: boolean; clock?: Clock; resolve?: Resolver },
  ) {
    this.#lookup = publicLookup(options.allowLoopbackHttp, options.resolve);
  }

  secretFor(subscriptionId: string): string {
    return this.keys.derive(`webhook-secret:${subscriptionId}`).toString('base64url');
  }

  /** Checks a URL: https, or http to a loopback address when `allowLoopbackHttp` is on (development and tests). */
  checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw urlError(`"${raw}" is not a URL. Enter an address such as https://example.org/civic-hooks`);
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const loopback = host === 'localhost' || (net.isIP(host) !== 0 && isLoopbackAddress(host));
    if (url.username || url.password) throw urlError('The webhook URL must not contain a user name or password. Remove them, and have your receiver check the Civic-Webhook-Signature header of each delivery instead');
    if (!loopback && net.isIP(host) !== 0 && isNonPublicAddress(host)) {
      throw urlError(`The webhook URL names ${host}, a private, link-local or reserved address. Use the public host name of your receiver`);
    }
    if (url.protocol === 'https:' && (!loopback || this.options.allowLoopbackHttp)) return url;
    if (url.protocol === 'http:' && loopback && this.options.allowLoopbackHttp) return url;
    throw urlError(`The webhook URL must start with https:// and name a public host${this.options.allowLoopbackHttp ? ', or be http:// on a loopback address' : ''}`);
  }

  async subscribe(subscriber: Subscriber, input: { url: string; agreementReference?: string; description?: string }): Promise<{ id: string; secret: string }> {
    const url = this.checkUrl(input.url.trim());
    return withOrganisation(this.db.app, subscriber.organisationId, async (trx) => {
      let agreementId: string | null = null;
      if (input.agreementReference) {
        const agreement = await trx
          .selectFrom('agreements as a')
          .innerJoin('agreement_parties as p', 'p.agreement_id', 'a.id')
          .select('a.id')
          .where('a.reference', '=', input.agreementReference)
          .where('p.party_organisation_id', '=', subscriber.organisationId)
          .executeTakeFirst();
        if (!agreement) throw notFound('agreement_not_found', `No agreement with the reference ${input.agreementReference} names your organisation.`);
        agreementId = agreement.id;
      }
      const row = await trx
        .insertInto('webhook_subscriptions')
        .values({ organisation_id: subscriber.organisationId, url: url.toString(), agreement_id: agreementId, description: (input.description ?? '').slice(0, 500), created_by: subscriber.userId })
        .returning('id')
        .executeTakeFirstOrThrow();
      await appendAuditEvent(trx, {
        organisationId: subscriber.organisationId,
        actorUserId: subscriber.userId,
        actorKind: 'token',
        action: 'webhook.subscribed',
        subjectType: 'webhook_subscription',
        subjectId: row.id,
        requestId: subscriber.requestId ?? null,
        details: { host: url.host, agreement_id: agreementId },
      });
      return { id: row.id, secret: this.secretFor(row.id) };
    });
  }

  async list(organisationId: string) {
    return withOrganisation(this.db.app, organisationId, (trx) =>
      trx.selectFrom('webhook_subscriptions').select(['id', 'url', 'agreement_id', 'description', 'created_at', 'disabled_at']).orderBy('created_at').execute(),
    );
  }

  async disable(subscriber: Subscriber, id: string): Promise<void> {
    await withOrganisation(this.db.app, subscriber.organisationId, async (trx) => {
      const result = await trx.updateTable('webhook_subscriptions').set({ disabled_at: new Date() }).where('id', '=', id).where('disabled_at', 'is', null).executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('subscription_not_found', `No active subscription has the id ${id}.`);
      await appendAuditEvent(trx, { organisationId: subscriber.organisationId, actorUserId: subscriber.userId, actorKind: 'token', action: 'webhook.disabled', subjectType: 'webhook_subscription', subjectId: id, requestId: subscriber.requestId ?? null });
    });
  }

  /** Lists a subscription's delivery attempts, oldest first; a disabled subscription keeps its history. */
  async deliveries(organisationId: string, subscriptionId: string) {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      // Row-level security hides other organisations' subscriptions, so theirs are not found either.
      const subscription = await trx.selectFrom('webhook_subscriptions').select('id').where('id', '=', subscriptionId).executeTakeFirst();
      if (!subscription) throw notFound('subscription_not_found', `Your organisation has no subscription with the id ${subscriptionId}. List your subscriptions at /api/v1/exchange/subscriptions.`);
      return trx
        .selectFrom('webhook_deliveries')
        .select(['event_id', 'event_type', 'attempt', 'status_code', 'error', 'duration_ms', 'attempted_at'])
        .where('subscription_id', '=', subscriptionId)
        .orderBy('id')
        .execute();
    });
  }

  /**
   * Queues one delivery job per live subscription of `organisationIds` (limited to `agreementId` where a subscription
   * names an agreement). Runs in the platform scope, inside a job.
   */
  async fanOut(organisationIds: string[], agreementId: string | null, type: string, data: Record<string, unknown>): Promise<number> {
    if (organisationIds.length === 0) return 0;
    const event: WebhookEvent = { id: randomUUID(), type, occurred_at: this.#now().toISOString(), data };
    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const subscriptions = await trx
        .selectFrom('webhook_subscriptions')
        .select(['id', 'organisation_id'])
        .where('organisation_id', 'in', organisationIds)
        .where('disabled_at', 'is', null)
        .where((eb) => (agreementId === null ? eb('agreement_id', 'is', null) : eb.or([eb('agreement_id', 'is', null), eb('agreement_id', '=', agreementId)])))
        .execute();
      for (const subscription of subscriptions) {
        await enqueueJob(trx, { kind: WEBHOOK_DELIVER_JOB, organisationId: subscription.organisation_id, runAt: this.#now(), payload: { subscription_id: subscription.id, event: event as unknown as Record<string, unknown> } });
      }
      return subscriptions.length;
    });
  }

  /** Delivers one event to one subscription and records the attempt; throws to make the job queue retry. */
  async deliver(job: ClaimedJob): Promise<void> {
    const subscriptionId = String(job.payload.subscription_id);
    const event = job.payload.event as WebhookEvent;
    const subscription = await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      return trx.selectFrom('webhook_subscriptions').select(['id', 'organisation_id', 'url', 'disabled_at']).where('id', '=', subscriptionId).executeTakeFirst();
    });
    if (!subscription || subscription.disabled_at !== null) throw new PermanentJobError(`Subscription ${subscriptionId} is gone or disabled.`);
    const body = JSON.stringify(event);
    const signature = createHmac('sha256', this.secretFor(subscription.id)).update(body).digest('hex');
    const started = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      // The URL is checked again, and a host name's addresses as it is resolved, so nothing reaches a private network.
      const url = this.checkUrl(subscription.url);
      const headers = { 'content-type': 'application/json', 'user-agent': 'civic-exchange-webhooks', 'civic-webhook-id': event.id, 'civic-webhook-event': event.type, [SIGNATURE_HEADER]: `sha256=${signature}` };
      statusCode = await postJson(url, body, headers, this.#lookup, DELIVERY_TIMEOUT_MS);
      if (statusCode < 200 || statusCode > 299) error = `The receiver answered with status ${statusCode}`;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    await this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      await trx
        .insertInto('webhook_deliveries')
        .values({ organisation_id: subscription.organisation_id, subscription_id: subscription.id, event_id: event.id, event_type: event.type, attempt: job.attempt, status_code: statusCode, error, duration_ms: Date.now() - started, attempted_at: this.#now() })
        .execute();
    });
    // The job queue logs the failure once, with the job's attempt and these ids from the error.
    if (error !== null) throw new WebhookDeliveryError(error, subscriptionId, event.id, statusCode);
  }

  /** Organisations that receive data from `datasetId` under an active agreement, with the agreement ids. */
  async recipientsOfDataset(datasetId: string): Promise<Array<{ agreementId: string; reference: string; recipients: string[] }>> {
    return this.db.app.transaction().execute(async (trx) => {
      await setPlatformScope(trx);
      const { rows } = await sql<{ id: string; reference: string; terms: { parties: Array<{ organisation_id: string; sharing_role: string }> } }>`
        select a.id, a.reference, v.terms from agreements a join agreement_versions v on v.id = a.version_in_force_id
        where a.status = 'active' and v.terms -> 'datasets' @> ${JSON.stringify([{ dataset_id: datasetId }])}::jsonb`.execute(trx);
      return rows.map((row) => ({
        agreementId: row.id,
        reference: row.reference,
        recipients: row.terms.parties.filter((party) => party.sharing_role === 'recipient').map((party) => party.organisation_id),
      }));
    });
  }

  #now(): Date {
    return this.options.clock ? this.options.clock() : new Date();
  }
}

/** Builds a webhook URL error. Its message ends with a full stop, and its field message has none, as GOV.UK forms write it. */
function urlError(message: string) {
  return validationError('invalid_webhook_url', `${message}.`, [{ field: 'url', message }]);
}

/** Checks a delivery's signature; receivers can copy this logic. */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const expected = Buffer.from(createHmac('sha256', secret).update(body).digest('hex'));
  const given = Buffer.from(header.slice(7));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
