/** Small helpers for the words of messages and pages. */

/** Writes a count with its noun in the singular or plural: "1 cell", "4 cells", "2 API tokens". */
export function countOf(count: number, noun: string): string {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}

/** Makes the first letter upper case and leaves the rest as written, so "active API tokens" keeps "API". */
export function sentenceCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
