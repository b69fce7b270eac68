// `pnpm start`: runs every package's example against the freshly built packages.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const root = new URL('../packages/', import.meta.url);
for (const name of readdirSync(root)) {
  const manifest = JSON.parse(readFileSync(new URL(`${name}/package.json`, root), 'utf8'));
  if (!manifest.scripts?.example) continue;
  console.log(`\n── ${manifest.name} ──`);
  const run = spawnSync('npm', ['run', '--silent', 'example'], {
    cwd: new URL(name, root),
    stdio: 'inherit',
  });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
