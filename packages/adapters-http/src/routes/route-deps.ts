import type { UseCases } from '@shipyard/core';
import type { CookiePolicy } from '../auth/cookies.js';
import type { AuthRateLimits } from '../auth/rate-limits.js';
import { z } from '../openapi/zod.js';

export interface RouteDeps {
  useCases: UseCases;
  rateLimits: AuthRateLimits;
  cookies: CookiePolicy;
}

export const idParams = (name = 'id') => z.strictObject({ [name]: z.string().uuid() });
export const optionalText = (max: number) => z.string().max(max).nullable().optional();
