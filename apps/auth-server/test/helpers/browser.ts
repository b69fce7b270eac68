import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { launchChromium } from '@portcullis/internal-testing';
import { APP_DIR } from './app';

/** playwright-core's types, reached through the shared helper that owns the dependency. */
export type Browser = Awaited<ReturnType<typeof launchChromium>>;
export type BrowserContext = Awaited<ReturnType<Browser['newContext']>>;
export type Page = Awaited<ReturnType<BrowserContext['newPage']>>;

export const ARTIFACTS = path.join(APP_DIR, 'test-artifacts');

/** Saves a full-page screenshot under apps/auth-server/test-artifacts/ (gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Decodes a JWT's payload (the signature is checked by the resource server's tests). */
export function claimsOf(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8'));
}
