import type { AuthSession } from '@shipyard/core';
import { z } from '../openapi/zod.js';
import { TenantWire } from './tenant.wire.js';
import { UserWire, userToWire } from './user.wire.js';

export const TokenWire = z
  .object({
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal('bearer'),
    expires_in: z.number().int(),
    user: UserWire,
  })
  .openapi('Tokens');
export const RegisterWire = TokenWire.extend({ tenant: TenantWire }).openapi('Registration');
export const sessionToWire = (s: AuthSession) => ({
  access_token: s.accessToken,
  refresh_token: s.refreshToken,
  token_type: s.tokenType,
  expires_in: s.expiresIn,
  user: userToWire(s.user),
});
