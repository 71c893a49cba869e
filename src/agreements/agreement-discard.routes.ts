import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FieldError } from '../errors.ts';
import { requireApplication, requireRole } from '../http/auth.ts';
import { formErrors } from '../http/forms.ts';
import type { Services } from '../services.ts';
import { actorFrom, loadPartyView, requireProvider, type PartyView } from './agreement-access.ts';
import { discardRefusal } from './agreement-discard.ts';
import { conflictPage, stepOrConflictPage } from './agreement-next-steps.ts';

/** Maximum reason length in characters, the same as the API's schema. */
const MAX_REASON_LENGTH = 2000;

type ReferenceRequest = FastifyRequest<{ Params: { reference: string } }>;

/**
 * Registers the confirmation page for discarding a draft version and the form post behind it. The provider's data
 * stewards and data protection officers may discard, as they may edit the draft.
 */
export async function agreementDiscardRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { agreements } = services.exchange;
  const drafter = [requireRole('data_steward', 'data_protection_officer'), requireApplication('exchange')];

  /** Loads the agreement for its provider, and sends the conflict page (`blocked`) when its current version is not a draft. */
  const load = async (request: ReferenceRequest, reply: FastifyReply): Promise<{ view: PartyView; blocked: boolean }> => {
    const view = await loadPartyView(agreements, request.auth!.organisationId!, request.params.reference);
    requireProvider(view, 'discard');
    const refusal = discardRefusal(view.detail, view.detail.latest);
    if (refusal === null) return { view, blocked: false };
    await conflictPage(request, reply, view, refusal);
    return { view, blocked: true };
  };

  const confirmPage = (request: ReferenceRequest, reply: FastifyReply, view: PartyView, reason: string, errors: FieldError[]) =>
    reply.page(
      'agreements/discard.njk',
      {
        ...formErrors(errors),
        csrfToken: services.accounts.csrf.tokenFor(request, reply),
        reference: view.detail.reference,
        title: view.detail.title,
        version: view.detail.latest.version,
        inForceVersion: view.detail.inForce?.version ?? null,
        reason,
      },
      errors.length > 0 ? 400 : 200,
    );

  app.get<{ Params: { reference: string } }>('/agreements/:reference/discard', { preHandler: drafter }, async (request, reply) => {
    const { view, blocked } = await load(request, reply);
    if (blocked) return reply;
    return confirmPage(request, reply, view, '', []);
  });

  app.post<{ Params: { reference: string } }>('/agreements/:reference/discard', { preHandler: drafter }, async (request, reply) => {
    const { view, blocked } = await load(request, reply);
    if (blocked) return reply;
    const submitted = (request.body as Record<string, unknown> | undefined)?.reason;
    const reason = typeof submitted === 'string' ? submitted : '';
    if (reason.length > MAX_REASON_LENGTH) {
      return confirmPage(request, reply, view, reason, [{ field: 'reason', message: 'Reason must be 2,000 characters or fewer' }]);
    }
    let status = view.detail.status;
    const conflictSent = await stepOrConflictPage(request, reply, view, async () => {
      status = await agreements.discardDraft(actorFrom(request), view.detail.reference, reason);
    });
    if (conflictSent) return reply;
    // A discarded first draft takes the whole agreement off the list, so the list is where the member lands.
    if (status === 'discarded') return reply.redirect('/agreements/manage?done=discarded', 303);
    return reply.redirect(`/agreements/${view.detail.reference}/manage?done=discarded`, 303);
  });
}
