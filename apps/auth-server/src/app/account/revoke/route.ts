import { getServer } from '@/lib/authorization-server';
import { sameOrigin, verifyCsrfToken } from '@/lib/csrf';
import { seeOther } from '@/lib/redirect';
import { guardRoute } from '@/lib/route-guard';
import { currentUser } from '@/lib/session';

export const dynamic = 'force-dynamic';

/**
 * Withdraws this user's consents for one client and revokes everything issued to it for this
 * user: outstanding codes, access tokens and refresh tokens.
 */
export const POST = guardRoute(async (request: Request): Promise<Response> => {
  if (!sameOrigin(request)) return new Response('Cross-site request refused.', { status: 403 });
  const user = await currentUser();
  if (!user) return seeOther('/login?callbackUrl=%2Faccount');
  const form = await request.formData().catch(() => undefined);
  const clientId = form?.get('client_id');
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) {
    return new Response('Malformed request.', { status: 400 });
  }
  if (!verifyCsrfToken(form?.get('csrf'), 'revoke', user.sid, user.id, clientId)) {
    return new Response('This form has expired. Reload the account page and try again.', {
      status: 403,
    });
  }
  const { as } = await getServer();
  await as.consents.revoke(user.id, clientId);
  return seeOther('/account?revoked=1');
});
