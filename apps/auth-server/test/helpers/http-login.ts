/** A browserless walk through sign-in and consent, for tests that exercise storage, not UI. */

export class CookieJar {
  readonly cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0]!;
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const value = pair.slice(at + 1).trim();
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** Signs in with the dev-login provider through next-auth's own endpoints. */
export async function devLogin(
  appUrl: string,
  email: string,
  jar = new CookieJar(),
): Promise<CookieJar> {
  const csrf = await fetch(`${appUrl}/api/auth/csrf`, { headers: { cookie: jar.header() } });
  jar.store(csrf);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const callback = await fetch(`${appUrl}/api/auth/callback/dev-login`, {
    method: 'POST',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrfToken, email, json: 'true', callbackUrl: '/account' }),
    redirect: 'manual',
  });
  jar.store(callback);
  if (![...jar.cookies.keys()].some((k) => k.endsWith('next-auth.session-token'))) {
    throw new Error(`dev login failed: ${callback.status}`);
  }
  return jar;
}

function unescapeHtml(value: string): string {
  return value
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function hidden(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match) throw new Error(`no ${name} field on the page`);
  return unescapeHtml(match[1]!);
}

/**
 * Follows /authorize as the signed-in user; approves on the consent page if it is shown.
 * Resolves the client redirect and whether consent was asked.
 */
export async function authorize(
  appUrl: string,
  jar: CookieJar,
  url: URL,
): Promise<{ callback: URL; consentShown: boolean }> {
  const first = await fetch(url, { headers: { cookie: jar.header() }, redirect: 'manual' });
  const location = first.headers.get('location');
  if (!location) throw new Error(`/authorize answered ${first.status} without a redirect`);
  const target = new URL(location, appUrl);
  if (target.origin !== appUrl || target.pathname !== '/consent') {
    return { callback: target, consentShown: false };
  }
  const page = await fetch(target, { headers: { cookie: jar.header() } });
  const html = await page.text();
  const decision = await fetch(`${appUrl}/authorize/decision`, {
    method: 'POST',
    headers: {
      cookie: jar.header(),
      origin: appUrl,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      request: hidden(html, 'request'),
      csrf: hidden(html, 'csrf'),
      decision: 'approve',
    }),
    redirect: 'manual',
  });
  if (decision.status !== 303) throw new Error(`decision answered ${decision.status}`);
  return { callback: new URL(decision.headers.get('location')!), consentShown: true };
}
