export { type PostgresStore, type PostgresStoreOptions, postgresStore } from './postgres-store.js';
export type { Queryable } from './queryable.js';
