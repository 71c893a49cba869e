import nodemailer, { type Transporter } from 'nodemailer';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import type { Logger } from '../logger.ts';

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
    private readonly logger: Logger,
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
      // The change the message reports has already been made; the log names the subject, never the recipient.
      this.logger.error({ err: error, subject: message.subject }, 'email sending failed');
      throw error;
    }
  }
}
