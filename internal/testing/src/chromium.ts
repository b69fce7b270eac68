import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { isCI } from './services.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// The machine's network is closed: without these flags Chromium keeps dialling Google.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether Debian's Chromium is installed; under `CI=true` its absence is an error. */
export function chromiumAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  if (isCI) throw new Error(`Chromium is missing at ${CHROMIUM_PATH}; .ci/run installs it`);
  console.warn(
    `[skip] Chromium is missing at ${CHROMIUM_PATH} (apt-get install -y chromium): browser tests are skipped`,
  );
  return false;
}

/** Launches headless Debian Chromium through playwright-core; never downloads a browser. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}
