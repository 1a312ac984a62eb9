/** One email, plain text (the platform's messages are short and carry one link). */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/**
 * Sends email (verification, password reset, invitations). `send` resolves once the message is
 * handed to the transport; it rejects when it could not be.
 */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
}
