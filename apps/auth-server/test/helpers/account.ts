import type { CookieJar } from '@portcullis/internal-testing/apps';
import { hiddenField } from './stores';

/**
 * Presses **Revoke** for a client on the account page, as the signed-in user (`jar`): reads the
 * page for its CSRF token, then posts the form. Resolves the response (303 on success).
 */
export async function revokeOnAccountPage(
  appUrl: string,
  jar: CookieJar,
  clientId: string,
  html?: string,
): Promise<Response> {
  const page =
    html ??
    (await (await fetch(`${appUrl}/account`, { headers: { cookie: jar.header() } })).text());
  return fetch(`${appUrl}/account/revoke`, {
    method: 'POST',
    headers: {
      cookie: jar.header(),
      origin: appUrl,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ client_id: clientId, csrf: hiddenField(page, 'csrf') }),
    redirect: 'manual',
  });
}
