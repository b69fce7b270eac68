export { type PostgresStore, type PostgresStoreOptions, postgresStore } from './postgres-store.js';
export type { Queryable } from './queryable.js';
export {
  type PostgresReplayStore,
  type PostgresReplayStoreOptions,
  postgresReplayStore,
} from './replay-store.js';
