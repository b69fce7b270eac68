// tsc emits only JavaScript; the Lua scripts are read at run time beside dist/redis/index.js.
import { cpSync } from 'node:fs';

cpSync(
  new URL('../src/redis/lua', import.meta.url),
  new URL('../dist/redis/lua', import.meta.url),
  {
    recursive: true,
  },
);
