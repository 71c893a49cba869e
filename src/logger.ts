import pino, { type Logger } from 'pino';
import { serializeError } from './log-errors.ts';

/**
 * Paths pino masks in every log line. Request bodies are never logged; these catch secrets and personal data that
 * reach a log object through headers, errors or explicit fields.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-ckan-api-key"]',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.secret',
  '*.masterKey',
  '*.email',
  '*.nhs_number',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: serializeError },
      base: { service: 'civic-exchange' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
