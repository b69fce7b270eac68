export {
  type PostgresAdapter,
  type PostgresAdapterOptions,
  postgresAdapter,
} from './postgres-adapter.js';
export type { Queryable } from './queryable.js';
