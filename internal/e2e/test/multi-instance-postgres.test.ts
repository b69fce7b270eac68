import { serviceAvailable } from '@portcullis/internal-testing';
import { multiInstanceSuite } from './helpers/multi-instance-suite.js';

// Two `next start` on one fresh Postgres database (tokens, clients, consents, keys and rate
// limits), behind a round-robin proxy.
multiInstanceSuite('postgres', await serviceAvailable('Postgres'));
