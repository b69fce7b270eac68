import type { Page } from '@portcullis/internal-testing';

export interface Decision {
  /** Whether the login page was shown (false when the browser session was still signed in). */
  loggedIn: boolean;
  /** Whether the consent page was shown, and the text it showed. */
  consent: string | undefined;
}

/**
 * Drives the browser through an authorization request as a person would: the development
 * login (an Email field, Enter) when asked, then Approve on the consent screen when asked.
 * Resolves once the browser has left the authorization server for the client's redirect URI.
 */
export async function signInAndApprove(
  page: Page,
  url: string,
  { issuer, email = 'ada@example.com' }: { issuer: string; email?: string },
): Promise<Decision> {
  const decision: Decision = { loggedIn: false, consent: undefined };
  const atIssuer = (u: URL) => u.origin === issuer;
  await page.goto(url);
  for (;;) {
    await page.waitForURL(
      (u) => !atIssuer(u) || u.pathname === '/login' || u.pathname === '/consent',
      { timeout: 60_000 },
    );
    const here = new URL(page.url());
    if (!atIssuer(here)) return decision;
    if (here.pathname === '/login') {
      if (decision.loggedIn) throw new Error('the login page came back after signing in');
      decision.loggedIn = true;
      await page.getByLabel('Email').fill(email);
      await Promise.all([
        page.waitForURL((u) => !(atIssuer(u) && u.pathname === '/login'), { timeout: 60_000 }),
        page.keyboard.press('Enter'),
      ]);
      continue;
    }
    if (decision.consent !== undefined) throw new Error('the consent page came back after Approve');
    decision.consent = (await page.locator('main').textContent()) ?? '';
    await Promise.all([
      page.waitForURL((u) => !atIssuer(u), { timeout: 60_000 }),
      page.getByRole('button', { name: 'Approve' }).click(),
    ]);
  }
}
