import type { EmailLinkPurpose, User } from '../domain/user.entity.js';
import { isUuid } from '../domain/validate.js';
import type { MailMessage } from '../ports/mailer.port.js';
import type { CoreDeps } from './core-deps.js';

/**
 * Single-use emailed links. The token is `<tenant id>.<user id>.<secret>`: the ids say where to
 * look (a link arrives without a session), the secret proves the holder read the mail. Only the
 * secret's digest is stored, on the user, with the link's purpose and expiry; a new link
 * replaces the pending one, and using a link clears it.
 */
export interface LinkToken {
  tenantId: string;
  userId: string;
  secret: string;
}

const SECRET = /^[A-Za-z0-9_-]{20,128}$/;

/** The parts of a link token, or null when it is not shaped like one (it then matches nothing). */
export function parseLinkToken(token: unknown): LinkToken | null {
  if (typeof token !== 'string' || token.length > 300) return null;
  const [tenantId, userId, secret, ...rest] = token.split('.');
  if (rest.length > 0 || !isUuid(tenantId) || !isUuid(userId) || secret === undefined || !SECRET.test(secret)) {
    return null;
  }
  return { tenantId: tenantId.toLowerCase(), userId: userId.toLowerCase(), secret };
}

const TTL: Record<EmailLinkPurpose, keyof CoreDeps['settings']> = {
  verify_email: 'emailVerificationTtlSeconds',
  reset_password: 'passwordResetTtlSeconds',
  invitation: 'invitationTtlSeconds',
};

/** Gives `user` a fresh pending link of `purpose` (the caller saves the user) and returns its token. */
export function issueEmailLink(
  deps: Pick<CoreDeps, 'secrets' | 'clock' | 'settings'>,
  user: User,
  purpose: EmailLinkPurpose,
): string {
  const now = deps.clock.now();
  const secret = deps.secrets.secret();
  const ttlSeconds = deps.settings[TTL[purpose]] as number;
  user.issueEmailLink(purpose, deps.secrets.digest(secret), new Date(now.getTime() + ttlSeconds * 1000), now);
  return `${user.tenantId}.${user.id}.${secret}`;
}

const PAGES: Record<EmailLinkPurpose, string> = {
  verify_email: 'verify-email',
  reset_password: 'reset-password',
  invitation: 'accept-invitation',
};

const lifetime = (seconds: number): string =>
  seconds % 86_400 === 0 ? `${seconds / 86_400} day(s)` : `${Math.max(1, Math.round(seconds / 3600))} hour(s)`;

/** The message that carries a link: the app's page with the token in the fragment, and the token itself. */
export function emailLinkMessage(
  settings: CoreDeps['settings'],
  user: User,
  purpose: EmailLinkPurpose,
  token: string,
): MailMessage {
  const url = `${settings.appUrl.replace(/\/+$/, '')}/${PAGES[purpose]}#token=${token}`;
  const ttl = lifetime(settings[TTL[purpose]] as number);
  const intro: Record<EmailLinkPurpose, [string, string]> = {
    verify_email: ['Verify your email address', 'Confirm that this address is yours by opening the link below.'],
    reset_password: [
      'Reset your password',
      'Someone (hopefully you) asked to reset the password of this account. Open the link below to choose a new one; every session of the account then ends. If it was not you, ignore this message.',
    ],
    invitation: [
      'You are invited to Shipyard',
      'An administrator added you. Open the link below to choose your password.',
    ],
  };
  const [subject, body] = intro[purpose];
  return {
    to: user.email,
    subject,
    text: `${body}\n\n${url}\n\nThe link works once and expires in ${ttl}. If a page does not open, send this token to the API (POST /api/v1/auth/${purpose === 'verify_email' ? 'verify-email' : 'reset-password'}): token=${token}\n`,
  };
}

/**
 * Hands a message to the mailer without holding the request: the answer does not wait for SMTP
 * (and so tells nothing by its timing). A failure is logged; the user can ask for another link.
 */
export function deliver(deps: Pick<CoreDeps, 'mailer' | 'logger'>, message: MailMessage, fields: object): void {
  deps.mailer.send(message).then(
    () => deps.logger.info({ ...fields, subject: message.subject }, 'mail sent'),
    (error: unknown) =>
      deps.logger.error(
        { ...fields, subject: message.subject, err: error instanceof Error ? error.message : String(error) },
        'mail could not be sent',
      ),
  );
}
