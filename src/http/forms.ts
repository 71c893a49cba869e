import type { FieldError } from '../errors.ts';

/** An item of the GOV.UK error summary: the message, linking to the field it belongs to. */
export interface ErrorSummaryItem {
  text: string;
  href: string;
}

/** The `errorMessage` parameter of a GOV.UK form component. */
export interface FieldErrorMessage {
  text: string;
}

export interface FormErrors {
  /** Pass as `errorSummary` to the layout, which shows the summary and starts the title with "Error: ". */
  errorSummary: ErrorSummaryItem[];
  /** Per field name, the `errorMessage` for its component; absent for fields without an error. */
  errorMessages: Record<string, FieldErrorMessage>;
}

/**
 * Turns field errors into the GOV.UK error summary pattern. Each summary item links to `#<id>`, where the id is
 * `fieldIds[field]` when given (a date input links to its first box, radios to their first option) and otherwise the
 * field name, which is what the GOV.UK macros use as the input id. Only the first error of a field is shown beside it,
 * but every error appears in the summary.
 */
export function formErrors(errors: FieldError[], fieldIds: Record<string, string> = {}): FormErrors {
  const errorSummary: ErrorSummaryItem[] = [];
  const errorMessages: Record<string, FieldErrorMessage> = {};
  for (const error of errors) {
    errorSummary.push({ text: error.message, href: `#${fieldIds[error.field] ?? error.field}` });
    errorMessages[error.field] ??= { text: error.message };
  }
  return { errorSummary, errorMessages };
}

/** The page context for a form shown again after bad input: the user's values kept and the errors attached. */
export function formPageContext<T extends Record<string, unknown>>(
  values: T,
  errors: FieldError[],
  fieldIds: Record<string, string> = {},
): { values: T } & FormErrors {
  return { values, ...formErrors(errors, fieldIds) };
}
