import { sql } from 'kysely';
import { formatIsoDate } from '../agreements/agreement.terms.ts';
import { londonDate } from '../agreements/agreement-dates.ts';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Database } from '../db/database.ts';
import { withOrganisation } from '../db/tenant.ts';
import { notFound, validationError, type FieldError } from '../errors.ts';
import type { Clock } from '../jobs/job-queue.ts';
import type { DpiaRisk, Likelihood, ResidualRisk, Severity } from './gdpr.tables.ts';
import type { SubjectAccessActor } from './subject-access.service.ts';

export const LIKELIHOODS: Record<Likelihood, string> = { remote: 'Remote', possible: 'Possible', probable: 'Probable' };
export const SEVERITIES: Record<Severity, string> = { minimal: 'Minimal', significant: 'Significant', severe: 'Severe' };
export const RESIDUAL_RISKS: Record<ResidualRisk, string> = { low: 'Low', medium: 'Medium', high: 'High' };

/** Risks a form offers; an API request may send up to MAX_RISKS. */
export const FORM_RISK_SLOTS = 3;
const MAX_RISKS = 50;
const MAX_TEXT = 5000;

export interface DpiaInput {
  description: string;
  necessity: string;
  risks: DpiaRisk[];
  residualRisk: ResidualRisk;
}

export interface Dpia extends DpiaInput {
  id: string;
  agreementId: string;
  signedOffBy: string;
  signedOffByName: string | null;
  /** ISO date (YYYY-MM-DD). */
  signedOffOn: string;
  updatedAt: Date;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

/**
 * Validates a DPIA. Collects every problem at once, with the field names the form uses: `description`, `necessity`,
 * `residualRisk`, `risks`, and `risks[N].description`, `.likelihood`, `.severity`, `.mitigation` (N from 0).
 */
export function parseDpia(input: Record<string, unknown>): DpiaInput {
  const errors: FieldError[] = [];
  const description = text(input.description);
  const necessity = text(input.necessity);
  if (description === '') errors.push({ field: 'description', message: 'Enter a description of the processing' });
  else if (description.length > MAX_TEXT) errors.push({ field: 'description', message: `Description of the processing must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer` });
  if (necessity === '') errors.push({ field: 'necessity', message: 'Enter why the processing is necessary and proportionate' });
  else if (necessity.length > MAX_TEXT) errors.push({ field: 'necessity', message: `Necessity and proportionality must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer` });

  const rawRisks = Array.isArray(input.risks) ? input.risks : [];
  const risks: DpiaRisk[] = [];
  if (rawRisks.length > MAX_RISKS) errors.push({ field: 'risks', message: `Enter at most ${MAX_RISKS} risks` });
  rawRisks.slice(0, MAX_RISKS).forEach((raw, index) => {
    const item = (raw ?? {}) as Record<string, unknown>;
    const risk = { description: text(item.description), likelihood: text(item.likelihood), severity: text(item.severity), mitigation: text(item.mitigation) };
    if (Object.values(risk).every((value) => value === '')) return;
    const at = `risks[${index}]`;
    const number = index + 1;
    if (risk.description === '') errors.push({ field: `${at}.description`, message: `Enter a description of risk ${number}` });
    if (!(risk.likelihood in LIKELIHOODS)) errors.push({ field: `${at}.likelihood`, message: `Select the likelihood of risk ${number}` });
    if (!(risk.severity in SEVERITIES)) errors.push({ field: `${at}.severity`, message: `Select the severity of risk ${number}` });
    if (risk.mitigation === '') errors.push({ field: `${at}.mitigation`, message: `Enter how risk ${number} is mitigated` });
    risks.push(risk as DpiaRisk);
  });
  if (risks.length === 0 && rawRisks.length <= MAX_RISKS) errors.push({ field: 'risks', message: 'Enter at least one risk, with its likelihood, severity and mitigation' });

  const residualRisk = text(input.residualRisk);
  if (!(residualRisk in RESIDUAL_RISKS)) errors.push({ field: 'residualRisk', message: 'Select the residual risk after mitigation' });
  if (errors.length > 0) throw validationError('invalid_dpia', errors.map((error) => error.message).join('. '), errors);
  return { description, necessity, risks, residualRisk: residualRisk as ResidualRisk };
}

/** Reads the names a GOV.UK form posts (`risks[0].description` …) into the shape parseDpia takes. */
export function dpiaFormInput(body: Record<string, unknown>): Record<string, unknown> {
  const risks = Array.from({ length: FORM_RISK_SLOTS }, (_, index) => ({
    description: body[`risks[${index}].description`],
    likelihood: body[`risks[${index}].likelihood`],
    severity: body[`risks[${index}].severity`],
    mitigation: body[`risks[${index}].mitigation`],
  }));
  return { description: body.description, necessity: body.necessity, residualRisk: body.residualRisk, risks };
}

/** Data protection impact assessments, one per agreement, kept by the provider organisation and signed off by a DPO. */
export class DpiaService {
  readonly #clock: Clock;

  constructor(
    private readonly db: Database,
    clock?: Clock,
  ) {
    this.#clock = clock ?? (() => new Date());
  }

  /** Finds the agreement by reference among the organisation's own agreements; throws not found otherwise. */
  async agreementFor(organisationId: string, reference: string): Promise<{ id: string; reference: string; title: string }> {
    const agreement = await withOrganisation(this.db.app, organisationId, (trx) =>
      trx.selectFrom('agreements').select(['id', 'reference', 'title']).where('reference', '=', reference).where('organisation_id', '=', organisationId).executeTakeFirst(),
    );
    if (!agreement) throw notFound('agreement_not_found', `Your organisation has no agreement with the reference ${reference}.`);
    return agreement;
  }

  async find(organisationId: string, agreementId: string): Promise<Dpia | null> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const row = await trx
        .selectFrom('dpias as d')
        .leftJoin('users as u', 'u.id', 'd.signed_off_by')
        .select(['d.id', 'd.agreement_id', 'd.description', 'd.necessity', 'd.risks', 'd.residual_risk', 'd.signed_off_by', 'd.signed_off_on', 'd.updated_at', 'u.display_name'])
        .where('d.agreement_id', '=', agreementId)
        .executeTakeFirst();
      if (!row) return null;
      return {
        id: row.id,
        agreementId: row.agreement_id,
        description: row.description,
        necessity: row.necessity,
        risks: row.risks,
        residualRisk: row.residual_risk,
        signedOffBy: row.signed_off_by,
        signedOffByName: row.display_name,
        signedOffOn: typeof row.signed_off_on === 'string' ? row.signed_off_on : formatIsoDate(new Date(row.signed_off_on)),
        updatedAt: new Date(row.updated_at),
      };
    });
  }

  /** Stores the DPIA of an agreement, replacing an earlier one, signed off by the acting DPO today; audited. */
  async save(actor: SubjectAccessActor & { userId: string }, agreementId: string, input: DpiaInput): Promise<string> {
    const now = this.#clock();
    // The sign-off day is the UK calendar day, so a save just after midnight in summer time gets that day, not the day before.
    const signedOffOn = londonDate(now);
    return withOrganisation(this.db.app, actor.organisationId, async (trx) => {
      const { rows } = await sql<{ id: string; inserted: boolean }>`
        insert into dpias (organisation_id, agreement_id, description, necessity, risks, residual_risk, signed_off_by, signed_off_on, created_at, updated_at)
        values (${actor.organisationId}, ${agreementId}, ${input.description}, ${input.necessity}, ${JSON.stringify(input.risks)}::jsonb,
                ${input.residualRisk}, ${actor.userId}, ${signedOffOn}::date, ${now}, ${now})
        on conflict (agreement_id) do update set description = excluded.description, necessity = excluded.necessity,
          risks = excluded.risks, residual_risk = excluded.residual_risk, signed_off_by = excluded.signed_off_by,
          signed_off_on = excluded.signed_off_on, updated_at = excluded.updated_at
        returning id, (xmax = 0) as inserted`.execute(trx);
      const row = rows[0]!;
      await appendAuditEvent(trx, {
        organisationId: actor.organisationId,
        actorUserId: actor.userId,
        actorKind: actor.actorKind,
        action: row.inserted ? 'dpia.created' : 'dpia.updated',
        subjectType: 'dpia',
        subjectId: row.id,
        requestId: actor.requestId,
        details: { agreementId, riskCount: input.risks.length, residualRisk: input.residualRisk, signedOffOn },
      });
      return row.id;
    });
  }
}
