import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCRIPT_SHA1 } from '../src/redis/index.js';
import { LUA_SOURCES } from '../src/redis/lua-sources.js';

const src = new URL('../src/', import.meta.url);

function filesUnder(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(new URL(`${entry.name}/`, dir)) : [new URL(entry.name, dir)],
  );
}

describe('package shape', () => {
  it('each Redis script matches its pinned SHA1 (the EVALSHA hash)', () => {
    const files = readdirSync(new URL('redis/lua/', src)).sort();
    expect(files).toEqual(
      Object.keys(SCRIPT_SHA1)
        .map((name) => `${name}.lua`)
        .sort(),
    );
    for (const [name, pinned] of Object.entries(SCRIPT_SHA1)) {
      const source = readFileSync(new URL(`redis/lua/${name}.lua`, src));
      expect(createHash('sha1').update(source).digest('hex'), name).toBe(pinned);
    }
  });

  it('the embedded scripts are the .lua files (run `node scripts/embed-lua.mjs` after an edit)', () => {
    for (const name of Object.keys(SCRIPT_SHA1) as (keyof typeof LUA_SOURCES)[]) {
      const file = readFileSync(new URL(`redis/lua/${name}.lua`, src), 'utf8');
      expect(LUA_SOURCES[name], name).toBe(file);
    }
  });

  it('the core entry is runtime-agnostic: no node: imports or Node globals outside src/redis and src/postgres', () => {
    const core = filesUnder(src).filter(
      (file) =>
        file.pathname.endsWith('.ts') &&
        !file.pathname.includes('/src/redis/') &&
        !file.pathname.includes('/src/postgres/'),
    );
    expect(core.length).toBeGreaterThan(5);
    for (const file of core) {
      const text = readFileSync(file, 'utf8');
      expect(text, file.pathname).not.toMatch(/from '(node:|fs|crypto|path|os)/);
      expect(text, file.pathname).not.toMatch(/\b(Buffer|process|require)\s*[.(]/);
    }
  });
});
