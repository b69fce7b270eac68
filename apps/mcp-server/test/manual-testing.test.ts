import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from './support.js';

const run = promisify(execFile);

/** The `sh` blocks of the README's "Manual testing" section after the start command. */
function manualCommands(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.split('## Manual testing')[1]?.split('\n## ')[0] ?? '';
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
  const commands = blocks
    .slice(1)
    .join('\n')
    .replace(/\\\n\s*/g, ' ');
  return commands.split('\n').filter((line) => line.startsWith('curl '));
}

/** The static token the README's start command configures. */
function readmeStaticTokens(): string {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  return /STATIC_TOKENS='([^']+)'/.exec(readme.split('## Manual testing')[1] ?? '')?.[1] ?? '';
}

let app: RunningApp;
beforeAll(async () => {
  app = await startApp({ AUTH_MODE: 'static', STATIC_TOKENS: readmeStaticTokens() });
});
afterAll(() => app?.close());

describe("README: the guide's manual testing commands", () => {
  it('are three curl commands', () => {
    expect(manualCommands()).toHaveLength(3);
  });

  it('work as documented against the server', async () => {
    const outputs: string[] = [];
    for (const command of manualCommands()) {
      const line = command.replaceAll('http://localhost:8000', app.origin);
      const { stdout } = await run('bash', ['-c', `${line} --silent --show-error --max-time 10`]);
      outputs.push(stdout);
    }
    const [metadata, list, challenge] = outputs as [string, string, string];
    expect(JSON.parse(metadata).resource).toBe(app.url);
    // A 2025-era request without a session: the SDK answers with one server-sent event.
    const data = /^data: (.*)$/m.exec(list)?.[1] ?? list;
    const tools = JSON.parse(data).result.tools.map((t: { name: string }) => t.name);
    expect(tools).toContain('authenticated_tool');
    expect(challenge).toMatch(/^HTTP\/1\.1 401/);
    expect(challenge).toMatch(/www-authenticate: Bearer .*resource_metadata="/i);
  });
});
