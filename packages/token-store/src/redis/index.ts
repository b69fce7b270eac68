export type { LuaScript } from './lua/script.js';
export { type RedisAdapter, type RedisAdapterOptions, redisAdapter } from './redis-adapter.js';
