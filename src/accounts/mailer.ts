import nodemailer, { type Transporter } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends email through SMTP when SMTP_URL is set; otherwise writes each message to the `outbox` table, which platform
 * administrators read at /admin/outbox. Outbox writes join the caller's transaction when one is given, so a message
 * about a change exists only if the change committed.
 */
export class Mailer {
  readonly #transport: Transporter | null;

  constructor(
    private readonly db: { app: Kysely<DB> },
    private readonly config: Pick<Config, 'smtpUrl' | 'mailFrom'>,
  ) {
    this.#transport = config.smtpUrl ? nodemailer.createTransport(config.smtpUrl) : null;
  }

  get usesOutbox(): boolean {
    return this.#transport === null;
  }

  async send(message: MailMessage, trx?: Kysely<DB>): Promise<void> {
    if (this.#transport === null) {
      await (trx ?? this.db.app).insertInto('outbox').values({ recipient: message.to, subject: message.subject, text_body: message.text }).execute();
      return;
    }
    try {
      await this.#transport.sendMail({ from: this.config.mailFrom, to: message.to, subject: message.subject, text: message.text });
    } catch (error) {
      // The caller's handler logs the error once. Nodemailer's error names the recipient in its message, its server
      // response and its lists of rejected addresses, so only the subject and the SMTP step and code go on.
      throw mailSendError(error, message.subject);
    }
  }
}

/** A failed SMTP send, described without the recipient's address. */
export class MailSendError extends Error {
  override name = 'MailSendError';

  constructor(
    message: string,
    /** Nodemailer's error code, such as `EENVELOPE` or `ECONNECTION`. */
    readonly code: string | null,
    /** The SMTP reply code, such as 550. */
    readonly responseCode: number | null,
  ) {
    super(message);
  }
}

function mailSendError(error: unknown, subject: string): MailSendError {
  const details = error as { code?: unknown; command?: unknown; responseCode?: unknown };
  const code = typeof details.code === 'string' ? details.code : null;
  const responseCode = typeof details.responseCode === 'number' ? details.responseCode : null;
  const step = typeof details.command === 'string' ? ` at ${details.command}` : '';
  const reply = responseCode === null ? '' : ` with SMTP reply ${responseCode}`;
  return new MailSendError(`Email "${subject}" could not be sent${step}${reply} (${code ?? 'no error code'}). Check SMTP_URL and the mail server's log.`, code, responseCode);
}
