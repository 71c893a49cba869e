import type { Kysely, Transaction } from 'kysely';
import { appendAuditEvent } from '../audit/audit.repository.ts';
import type { Database } from '../db/database.ts';
import type { DB } from '../db/schema.ts';
import { setOrganisation, withOrganisation } from '../db/tenant.ts';
import { AppError, conflict, forbidden, notFound, validationError } from '../errors.ts';
import type { Clock } from '../jobs/job-queue.ts';
import { checkTermsDatasets, listOwnDatasets } from './agreement-datasets.ts';
import { discardDraft, discardedConflict, DRAFTING_ROLES } from './agreement-discard.ts';
import { dateState } from './agreement-dates.ts';
import { currentVersion, nextVersionNumber } from './agreement-versions.ts';
import * as repository from './agreement.repository.ts';
import { parseTerms, type AgreementTerms } from './agreement.terms.ts';
import type { Actor, AgreementDetail, AgreementSummary, AgreementVersion } from './agreement.types.ts';
import type { AgreementStatus } from './agreements.tables.ts';

const REFERENCE_PATTERN = /^[A-Z0-9][A-Z0-9-]{2,59}$/;

/**
 * Drafting, reading and amending agreements. State changes after drafting (submission, approval, suspension) are in
 * AgreementWorkflow. Writes run in the provider's scope, after the actor's right to act has been checked in their own.
 */
export class AgreementService {
  constructor(
    readonly db: Database,
    readonly clock: Clock = () => new Date(),
  ) {}

  /** Creates an agreement with version 1 as a draft. */
  async createDraft(actor: Actor, reference: string, input: unknown): Promise<{ agreementId: string; versionId: string }> {
    const errors = REFERENCE_PATTERN.test(reference)
      ? []
      : [{ field: 'reference', message: 'Enter a reference of 3 to 60 capital letters, digits and hyphens, such as THR-ISA-2026-014' }];
    const parsed = parseTerms(input);
    errors.push(...parsed.errors);
    if (!parsed.terms || errors.length > 0) throw validationError('agreement_invalid', 'The agreement has problems. Correct them and try again.', errors);
    const terms = parsed.terms;
    this.#requireDrafter(actor, terms);
    return withOrganisation(this.db.app, actor.organisationId, async (trx) => {
      await this.#checkDatasets(trx, actor.organisationId, terms);
      const existing = await repository.findAgreementByReference(trx, reference);
      if (existing) {
        // A discarded agreement keeps its reference, because its history and audit entries name it.
        const use = existing.status === 'discarded' ? 'was used by a draft that has been discarded' : 'is already in use';
        throw new AppError('conflict', 'agreement_reference_taken', `The reference ${reference} ${use}. Choose another reference.`, {
          fields: [{ field: 'reference', message: `The reference ${reference} ${use}` }],
        });
      }
      const agreementId = await repository.insertAgreement(trx, { organisationId: actor.organisationId, reference, title: terms.title });
      const versionId = await repository.insertVersion(trx, { agreementId, organisationId: actor.organisationId, version: 1, terms, createdBy: actor.userId });
      await repository.addParties(trx, agreementId, actor.organisationId, terms.parties.map((party) => party.organisationId));
      await this.recordTransition(trx, actor, { organisationId: actor.organisationId, agreementId, versionId, from: null, to: 'draft', reason: 'Agreement drafted' });
      return { agreementId, versionId };
    });
  }

  /** Replaces the terms of the draft version (the first draft or an amendment). */
  async updateDraft(actor: Actor, reference: string, input: unknown): Promise<void> {
    const parsed = parseTerms(input);
    if (!parsed.terms) throw validationError('agreement_invalid', 'The agreement has problems. Correct them and try again.', parsed.errors);
    const terms = parsed.terms;
    this.#requireDrafter(actor, terms);
    await withOrganisation(this.db.app, actor.organisationId, async (trx) => {
      const agreement = await this.#ownAgreement(trx, actor, reference);
      if (agreement.status === 'discarded') throw discardedConflict(reference, 'edited');
      const latest = await this.#latestVersion(trx, agreement);
      if (latest.status !== 'draft') {
        throw conflict('agreement_not_draft', `Version ${latest.version} of ${reference} is ${latest.status.replace('_', ' ')}, so it cannot be edited. Start an amendment instead.`);
      }
      await this.#checkDatasets(trx, actor.organisationId, terms);
      await repository.updateVersionTerms(trx, latest.id, terms);
      await repository.addParties(trx, agreement.id, agreement.organisationId, terms.parties.map((party) => party.organisationId));
      if (agreement.versionInForceId === null) await repository.updateAgreement(trx, agreement.id, { title: terms.title });
      await appendAuditEvent(trx, {
        organisationId: agreement.organisationId,
        actorUserId: actor.userId,
        actorKind: actor.kind,
        action: 'agreement.draft_updated',
        subjectType: 'agreement',
        subjectId: agreement.id,
        requestId: actor.requestId ?? null,
        details: { reference, version: latest.version },
      });
    });
  }

  /** Starts an amendment: a new draft version copied from the version in force, to be approved again. */
  async amend(actor: Actor, reference: string, input?: unknown): Promise<{ versionId: string; version: number }> {
    return withOrganisation(this.db.app, actor.organisationId, async (trx) => {
      const agreement = await this.#ownAgreement(trx, actor, reference);
      if (agreement.status === 'terminated') throw conflict('agreement_terminated', `${reference} has been terminated, so it cannot be amended. Draft a new agreement.`);
      if (agreement.status === 'discarded') throw discardedConflict(reference, 'amended');
      const versions = await repository.listVersions(trx, agreement.id);
      const latest = currentVersion(versions);
      if (latest.status === 'draft' || latest.status === 'awaiting_approval') {
        const next =
          latest.status === 'draft'
            ? 'is already a draft. Edit that draft and submit it, instead of starting another amendment.'
            : "is already awaiting approval. Wait for the approvers' decisions, or withdraw it to draft and edit it.";
        throw conflict('amendment_in_progress', `Version ${latest.version} of ${reference} ${next}`);
      }
      let terms: AgreementTerms = latest.terms;
      if (input !== undefined) {
        const parsed = parseTerms(input);
        if (!parsed.terms) throw validationError('agreement_invalid', 'The agreement has problems. Correct them and try again.', parsed.errors);
        terms = parsed.terms;
        this.#requireDrafter(actor, terms);
        await this.#checkDatasets(trx, actor.organisationId, terms);
      }
      const version = nextVersionNumber(versions);
      const versionId = await repository.insertVersion(trx, { agreementId: agreement.id, organisationId: agreement.organisationId, version, terms, createdBy: actor.userId });
      await repository.addParties(trx, agreement.id, agreement.organisationId, terms.parties.map((party) => party.organisationId));
      await this.recordTransition(trx, actor, {
        organisationId: agreement.organisationId,
        agreementId: agreement.id,
        versionId,
        from: agreement.status,
        to: agreement.status,
        reason: `Amendment started as version ${version}`,
      });
      return { versionId, version };
    });
  }

  /** Discards the draft version; see discardDraft for what stays and what changes. */
  async discardDraft(actor: Actor, reference: string, reason = ''): Promise<AgreementStatus> {
    return discardDraft(this, actor, reference, reason);
  }

  /** The agreement with all its versions, for a party to it (or anyone, once active). */
  async getDetail(organisationId: string | null, reference: string): Promise<AgreementDetail> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const agreement = await repository.findAgreementByReference(trx, reference);
      if (!agreement) throw notFound('agreement_not_found', `No agreement has the reference ${reference}. Check the reference.`);
      return this.loadDetail(trx, agreement, organisationId);
    });
  }

  /** Loads versions, organisation names and dataset titles; dataset titles are read in the provider's scope. */
  async loadDetail(trx: Kysely<DB>, agreement: AgreementSummary, scopeOrganisationId: string | null): Promise<AgreementDetail> {
    const versions = await repository.listVersions(trx, agreement.id);
    const inForce = versions.find((version) => version.id === agreement.versionInForceId) ?? null;
    let visible = versions;
    if (scopeOrganisationId === null) visible = inForce ? [inForce] : [];
    if (visible.length === 0) throw notFound('agreement_not_found', `No agreement has the reference ${agreement.reference}. Check the reference.`);
    const latest = currentVersion(visible);
    const organisationIds = [...new Set(visible.flatMap((version) => version.terms.parties.map((party) => party.organisationId)))];
    const datasetIds = [...new Set(visible.flatMap((version) => version.terms.datasets.map((dataset) => dataset.datasetId)))];
    const organisationNames = await repository.organisationNames(trx, organisationIds);
    await setOrganisation(trx, agreement.organisationId);
    const datasetTitles = await repository.datasetTitles(trx, datasetIds);
    await setOrganisation(trx, scopeOrganisationId);
    return { ...agreement, versions: visible, inForce, latest, organisationNames, datasetTitles };
  }

  /** Agreements an organisation provides or is party to, with the latest version of each. */
  async listForOrganisation(organisationId: string): Promise<Array<AgreementSummary & { latest: AgreementVersion }>> {
    return withOrganisation(this.db.app, organisationId, async (trx) => {
      const agreements = await repository.listAgreements(trx, { partyOrganisationId: organisationId });
      const result: Array<AgreementSummary & { latest: AgreementVersion }> = [];
      for (const agreement of agreements) {
        const versions = await repository.listVersions(trx, agreement.id);
        result.push({ ...agreement, latest: currentVersion(versions) });
      }
      return result;
    });
  }

  /** The public register: active agreements with their version in force. */
  async listRegister(): Promise<AgreementDetail[]> {
    return withOrganisation(this.db.app, null, async (trx) => {
      const agreements = await repository.listAgreements(trx, { status: 'active' });
      const details: AgreementDetail[] = [];
      for (const agreement of agreements) details.push(await this.loadDetail(trx, agreement, null));
      // The daily check moves an agreement past its end or review date out of 'active' once a day, so until it runs
      // such an agreement is left out here by its dates.
      const now = this.clock();
      return details.filter((detail) => detail.inForce !== null && ['in_force', 'not_started'].includes(dateState(detail.inForce.terms, now)));
    });
  }

  async datasetsForDrafting(organisationId: string): Promise<Array<{ id: string; slug: string; title: string; fields: string[] }>> {
    return withOrganisation(this.db.app, organisationId, (trx) => listOwnDatasets(trx, organisationId));
  }

  /** Writes a transition row and the matching audit event in the caller's transaction. */
  async recordTransition(
    trx: Kysely<DB>,
    actor: Actor | null,
    change: { organisationId: string; agreementId: string; versionId: string | null; from: string | null; to: string; reason: string },
  ): Promise<void> {
    const actorKind = actor ? actor.kind : 'system';
    await repository.insertTransition(trx, {
      organisationId: change.organisationId,
      agreementId: change.agreementId,
      versionId: change.versionId,
      fromStatus: change.from,
      toStatus: change.to,
      actorUserId: actor?.userId ?? null,
      actorKind,
      reason: change.reason,
      at: this.clock(),
    });
    await appendAuditEvent(trx, {
      organisationId: change.organisationId,
      actorUserId: actor?.userId ?? null,
      actorKind,
      action: 'agreement.transition',
      subjectType: 'agreement',
      subjectId: change.agreementId,
      requestId: actor?.requestId ?? null,
      details: { from: change.from, to: change.to, reason: change.reason, version_id: change.versionId },
    });
  }

  #requireDrafter(actor: Actor, terms: AgreementTerms): void {
    if (!actor.roles.some((role) => DRAFTING_ROLES.includes(role))) {
      throw forbidden('agreement_role', 'Only an administrator, data steward or data protection officer can draft agreements.');
    }
    const provider = terms.parties.find((party) => party.sharingRole === 'provider');
    if (provider?.organisationId !== actor.organisationId) {
      throw new AppError('forbidden', 'agreement_not_provider', 'Your organisation must be the provider of an agreement it drafts.', {
        fields: [{ field: 'parties', message: 'Your organisation must be the provider' }],
      });
    }
  }

  async #checkDatasets(trx: Kysely<DB>, providerId: string, terms: AgreementTerms): Promise<void> {
    const errors = await checkTermsDatasets(trx, providerId, terms);
    if (errors.length > 0) throw validationError('agreement_invalid', 'The agreement has problems. Correct them and try again.', errors);
  }

  /** The agreement, which the actor's organisation must provide; the transaction stays in that scope. */
  async #ownAgreement(trx: Transaction<DB> | Kysely<DB>, actor: Actor, reference: string): Promise<AgreementSummary> {
    const agreement = await repository.findAgreementByReference(trx, reference);
    if (!agreement || agreement.organisationId !== actor.organisationId) {
      throw notFound('agreement_not_found', `Your organisation provides no agreement with the reference ${reference}.`);
    }
    if (!actor.roles.some((role) => DRAFTING_ROLES.includes(role))) {
      throw forbidden('agreement_role', 'Only an administrator, data steward or data protection officer can change agreements.');
    }
    return agreement;
  }

  async #latestVersion(trx: Kysely<DB>, agreement: AgreementSummary): Promise<AgreementVersion> {
    const versions = await repository.listVersions(trx, agreement.id);
    return currentVersion(versions);
  }
}

export type { AgreementStatus };
