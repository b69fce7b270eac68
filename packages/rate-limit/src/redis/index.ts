export { type RedisClientLike, type RedisStoreOptions, redisStore } from './redis-store.js';
export {
  type RedisCommandClientLike,
  type RedisReplayStoreOptions,
  redisReplayStore,
} from './replay-store.js';
export { type LuaScript, loadScripts, SCRIPT_SHA1 } from './scripts.js';
