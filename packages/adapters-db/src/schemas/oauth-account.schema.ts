import { ArrayType } from '@mikro-orm/core';
import { OAUTH_PROVIDERS } from '@shipyard/core';
import { defineSchema } from './define-schema.js';

export const OAuthAccountSchema = defineSchema({
  entity: 'oauthAccount',
  columns: {
    provider: { enum: true, items: [...OAUTH_PROVIDERS] },
    providerAccountId: { type: 'text' },
    login: { type: 'text' },
    accessToken: { type: 'text', hidden: true },
    scopes: { type: ArrayType, columnType: 'text[]' },
  },
  // The unique key (user_id, provider) also serves lookups by user.
});
