export { createRateLimiter } from './create-rate-limiter.js';
export { RateLimitError, type RateLimitErrorCode, StoreUnavailableError } from './errors.js';
export { fixedWindow } from './fixed-window.js';
export { type ArgumentErrorCode, CodedTypeError } from './lib/errors.js';
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './memory-store.js';
export { rateLimitHeaders } from './rate-limit-headers.js';
export { MAX_REPLAY_KEY, type ReplayStore } from './replay.js';
export { slidingWindow } from './sliding-window.js';
export { tokenBucket } from './token-bucket.js';
export type {
  LimitOptions,
  RateLimitAlgorithm,
  RateLimitAlgorithmName,
  RateLimiter,
  RateLimiterOptions,
  RateLimitResult,
  RateLimitStore,
  StoreDecision,
} from './types.js';
