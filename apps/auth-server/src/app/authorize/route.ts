import { getServer } from '@/lib/authorization-server';
import { consentLocation, loginLocation, requestTooLong, seeOther } from '@/lib/redirect';
import { guardRoute } from '@/lib/route-guard';
import { currentUser } from '@/lib/session';

export const dynamic = 'force-dynamic';

/**
 * The authorization endpoint (RFC 6749 §4.1.1, OAuth 2.1 §4.1.1). The library validates the
 * request (client, exact redirect URI, PKCE S256, resource, scopes); this app adds the person:
 * sign in, then consent unless this user already granted these scopes to this client.
 */
export const GET = guardRoute(async (request: Request): Promise<Response> => {
  const url = new URL(request.url);
  const { as } = await getServer();
  const parsed = await as.authorization.parse(url.searchParams, { request });
  if (!parsed.ok) return parsed.response;
  const query = url.searchParams.toString();
  const user = await currentUser();
  if (!user) {
    const location = loginLocation(query);
    return location ? seeOther(location, 302) : requestTooLong();
  }
  const prompt = (url.searchParams.get('prompt') ?? '').split(' ');
  if (prompt.includes('consent') || (await parsed.pending.needsConsent(user.id))) {
    const location = consentLocation(query);
    return location ? seeOther(location, 302) : requestTooLong();
  }
  return parsed.pending.approve(user.id, { authTime: user.authTime });
});
