import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type FieldError } from '../errors.ts';
import { formPageContext } from '../http/forms.ts';
import type { Services } from '../services.ts';

type FormBody = Record<string, string | string[] | undefined>;

/** A single text field of a posted form; empty when missing or sent more than once. */
export function formField(body: unknown, name: string): string {
  const value = (body as FormBody | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** Every value of a field that may repeat, such as a group of checkboxes. */
export function formList(body: unknown, name: string): string[] {
  const value = (body as FormBody | undefined)?.[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Rejects a malformed id in a path as not found, before it reaches a uuid column. */
export function checkUuid(id: string, what: string): void {
  if (!UUID_PATTERN.test(id)) throw new AppError('not_found', `${what}_not_found`, `${what[0]!.toUpperCase()}${what.slice(1).replace(/_/g, ' ')} not found.`);
}

/** Renders a form page: 400 with the error summary when there are errors, the user's values kept. */
export function showForm(
  services: Services,
  request: FastifyRequest,
  reply: FastifyReply,
  template: string,
  values: Record<string, unknown>,
  errors: FieldError[],
  extra: Record<string, unknown> = {},
  fieldIds: Record<string, string> = {},
): Promise<FastifyReply> {
  const context = { ...formPageContext(values, errors, fieldIds), csrfToken: services.accounts.csrf.tokenFor(request, reply), ...extra };
  return reply.page(template, context, errors.length > 0 ? 400 : 200);
}

/**
 * Runs `work`. A validation AppError with field errors shows the form page again, and anything else is re-thrown.
 * With `formId`, a conflict (such as a plan limit) also shows the form again, with its message on the whole form.
 */
export async function withFormErrors<T>(
  work: () => Promise<T>,
  onErrors: (errors: FieldError[]) => Promise<FastifyReply>,
  options: { formId?: string } = {},
): Promise<T | FastifyReply> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.kind === 'validation' && error.fields.length > 0) return onErrors(error.fields);
    if (error instanceof AppError && error.kind === 'conflict' && options.formId !== undefined) return onErrors([{ field: options.formId, message: error.message }]);
    throw error;
  }
}
