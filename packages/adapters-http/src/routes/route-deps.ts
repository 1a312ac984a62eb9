import type { UseCases } from '@shipyard/core';
import type { Logger } from 'pino';
import type { AccountRateLimits } from '../auth/account-limits.js';
import type { CookiePolicy } from '../auth/cookies.js';
import type { AuthRateLimits } from '../auth/rate-limits.js';
import type { LogStreamSettings } from '../log-stream.js';
import { z } from '../openapi/zod.js';

export interface RouteDeps {
  useCases: UseCases;
  rateLimits: AuthRateLimits;
  accountLimits: AccountRateLimits;
  cookies: CookiePolicy;
  /** How the log routes follow a log (poll interval, keepalive, lifetime). */
  logStream: LogStreamSettings;
  logger: Logger;
}

export const idParams = (name = 'id') => z.strictObject({ [name]: z.string().uuid() });
export const optionalText = (max: number) => z.string().max(max).nullable().optional();
