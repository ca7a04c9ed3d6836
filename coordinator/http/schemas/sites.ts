// REST schemas for the admin's site routes. Bodies are attacker-controlled until checked here.

import { Type, type Static } from '@sinclair/typebox';

const SiteId = Type.String({ pattern: '^[A-Za-z0-9._:-]{1,128}$' });

export const RegisterSiteBody = Type.Object(
  {
    siteId: SiteId,
    /** Ed25519 public key: 64 hex digits, or the contents of the site's site.pub file. */
    publicKey: Type.String({ minLength: 64, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type RegisterSiteBody = Static<typeof RegisterSiteBody>;

export const SiteIdParams = Type.Object({ id: SiteId }, { additionalProperties: false });
export type SiteIdParams = Static<typeof SiteIdParams>;
