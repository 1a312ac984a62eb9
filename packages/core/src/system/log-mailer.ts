import type { Logger } from '../ports/logger.port.js';
import type { Mailer, MailMessage } from '../ports/mailer.port.js';

/**
 * The mailer of a server without SMTP (the embedded default): every message is written to the
 * log, link included, so a developer can follow it. Not for production: the links are secrets.
 */
export class LogMailer implements Mailer {
  constructor(private readonly logger: Logger) {}

  async send(message: MailMessage): Promise<void> {
    this.logger.info({ mail_to: message.to, subject: message.subject, body: message.text }, `mail: ${message.subject}`);
  }
}
