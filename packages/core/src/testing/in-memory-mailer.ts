import type { Mailer, MailMessage } from '../ports/mailer.port.js';

/** Keeps every message sent, for tests; `failing` makes `send` reject (a transport outage). */
export class InMemoryMailer implements Mailer {
  readonly sent: MailMessage[] = [];
  failing = false;

  async send(message: MailMessage): Promise<void> {
    if (this.failing) throw new Error('mail transport unavailable');
    this.sent.push({ ...message });
  }

  /** Messages sent to `to` (compared case-insensitively), oldest first. */
  to(to: string): MailMessage[] {
    return this.sent.filter((m) => m.to.toLowerCase() === to.toLowerCase());
  }

  /** The single-use token in the newest message to `to`, or undefined. */
  lastToken(to: string): string | undefined {
    const messages = this.to(to);
    const last = messages[messages.length - 1];
    return last === undefined ? undefined : /token=([A-Za-z0-9._~-]+)/.exec(last.text)?.[1];
  }
}
