import { createHash } from 'node:crypto';
import { RateLimitError } from '../errors.js';
import type { RateLimitAlgorithmName } from '../types.js';
import { LUA_SOURCES } from './lua-sources.js';

/**
 * SHA1 of each script, pinned: EVALSHA sends these, and a test checks them against the files, so
 * a script edited without updating its pin fails the build instead of missing the server cache.
 */
export const SCRIPT_SHA1: Readonly<Record<RateLimitAlgorithmName, string>> = {
  'sliding-window': '6875383270bba0b132eacdddd6cf9da6a33e09d9',
  'token-bucket': '377dccac86c98dc751d69341e177809dd0d3cb0c',
  'fixed-window': '9863ffd7a83d8a66705d8b7b51ffcb123b22a8b1',
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
