export {
  type ReplayStoreCase,
  type ReplayStoreConformanceOptions,
  replayStoreConformance,
} from './replay-store-conformance.js';
