/**
 * Domain errors with two faces: `message` is the plain sentence shown to users and API clients, `detail` goes only to
 * the log. `code` is stable for API clients. One place (src/http/errors.ts) maps the kinds to HTTP statuses.
 */
export type ErrorKind = 'validation' | 'not_found' | 'forbidden' | 'unauthenticated' | 'conflict' | 'too_large' | 'rate_limited' | 'unavailable';

export interface FieldError {
  /** The field, column or parameter at fault, as the user named it. */
  field: string;
  message: string;
}

export class AppError extends Error {
  override name = 'AppError';

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    /** `retryAfterSeconds`, for `rate_limited` errors, becomes the Retry-After header of the reply. */
    readonly options: { detail?: string; fields?: FieldError[]; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
  }

  get fields(): FieldError[] {
    return this.options.fields ?? [];
  }
}

export const validationError = (code: string, message: string, fields?: FieldError[]) => new AppError('validation', code, message, { fields });
export const notFound = (code: string, message: string) => new AppError('not_found', code, message);
export const forbidden = (code: string, message: string) => new AppError('forbidden', code, message);
export const conflict = (code: string, message: string) => new AppError('conflict', code, message);
