// Part of `pnpm test`: the browser tests drive Debian's Chromium. When it is missing, install
// Debian's `chromium` package if this process can (root with apt-get), else stop with one line
// saying how. Never downloads a browser from anywhere but apt. CHROMIUM_PATH overrides the path.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const path = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (existsSync(path)) process.exit(0);

const how = `install Debian's chromium (sudo apt-get install -y chromium) or set CHROMIUM_PATH`;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
if (path !== '/usr/bin/chromium' || !hasApt || process.getuid?.() !== 0) {
  const why = path !== '/usr/bin/chromium' ? '' : !hasApt ? ' (no apt-get here)' : ' (not root)';
  console.error(`Chromium is missing at ${path}${why}: ${how}, then run the tests again.`);
  process.exit(1);
}

console.log(
  "Chromium is missing: installing Debian's chromium with apt-get for the browser tests…",
);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [
  ['update', '-qq'],
  ['install', '-y', '-qq', 'chromium'],
]) {
  const run = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  if (run.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${run.status}): ${how}.`);
    process.exit(1);
  }
}
if (!existsSync(path)) {
  console.error(`apt-get installed chromium but ${path} is still missing: ${how}.`);
  process.exit(1);
}
