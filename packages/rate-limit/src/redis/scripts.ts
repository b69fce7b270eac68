import { createHash } from 'node:crypto';
import { RateLimitError } from '../errors.js';
import type { RateLimitAlgorithmName } from '../types.js';
import { LUA_SOURCES } from './lua-sources.js';

/**
 * SHA1 of each script, pinned: EVALSHA sends these, and a test checks them against the files, so
 * a script edited without updating its pin fails the build instead of missing the server cache.
 */
export const SCRIPT_SHA1: Readonly<Record<RateLimitAlgorithmName, string>> = {
  'sliding-window': '7eb0769bf2b8db4bbcc02c8b87d08288ef483e63',
  'token-bucket': 'db4f0975a1e99512495b6e475a5cd8ea1698fba4',
  'fixed-window': 'ffbf9fe0457439014ce4a7ce6aff2a8563059416',
};

/** A Lua script and its pinned SHA1. */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

let loaded: Readonly<Record<RateLimitAlgorithmName, LuaScript>> | undefined;

/** The scripts (embedded from `src/redis/lua/*.lua`), each checked against its pinned SHA1. */
export function loadScripts(): Readonly<Record<RateLimitAlgorithmName, LuaScript>> {
  if (loaded) return loaded;
  const scripts = {} as Record<RateLimitAlgorithmName, LuaScript>;
  for (const name of Object.keys(SCRIPT_SHA1) as RateLimitAlgorithmName[]) {
    const source = LUA_SOURCES[name];
    const sha1 = createHash('sha1').update(source).digest('hex');
    if (sha1 !== SCRIPT_SHA1[name]) {
      throw new RateLimitError(
        `lua/${name}.lua has SHA1 ${sha1}, not the pinned ${SCRIPT_SHA1[name]}: update SCRIPT_SHA1`,
      );
    }
    scripts[name] = { source, sha1 };
  }
  loaded = scripts;
  return scripts;
}
