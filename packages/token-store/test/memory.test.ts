import { memoryAdapter } from '../src/index.js';
import { conformance } from './support/conformance.js';

conformance('memory', async () => {
  const adapter = memoryAdapter();
  return {
    adapter,
    // The adapter's whole state, as a heap dump would show it.
    dump: async () => JSON.stringify(adapter.dump()),
    close: () => adapter.close(),
  };
});
