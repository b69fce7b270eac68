import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from '@portcullis/internal-testing';
import { AUTH_DIR } from '@portcullis/internal-testing/apps';

export const ARTIFACTS = path.join(AUTH_DIR, 'test-artifacts');

/** Saves a full-page screenshot under apps/auth-server/test-artifacts/ (gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
