import type { Mailer, MailMessage } from '@shipyard/core';
import { createTransport, type Transporter } from 'nodemailer';

export interface SmtpMailerOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS from the start). */
  url: string;
  /** The sender, e.g. `Shipyard <no-reply@example.com>`. */
  from: string;
  /** Milliseconds to connect, to get the greeting and between reads (default 10 s, 10 s, 30 s). */
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
}

/** Sends mail over SMTP with nodemailer: one pooled transport, bounded waits. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(private readonly options: SmtpMailerOptions) {
    this.transport = createTransport(options.url, {
      pool: true,
      maxConnections: 2,
      connectionTimeout: options.timeouts?.connectionMs ?? 10_000,
      greetingTimeout: options.timeouts?.greetingMs ?? 10_000,
      socketTimeout: options.timeouts?.socketMs ?? 30_000,
    } as Parameters<typeof createTransport>[1]);
  }

  async send(message: MailMessage): Promise<void> {
    await this.transport.sendMail({
      from: this.options.from,
      to: message.to,
      subject: message.subject,
      text: message.text,
    });
  }

  /** Closes the pooled connections (on shutdown). */
  close(): void {
    this.transport.close();
  }
}
