import { multiInstanceSuite } from './helpers/multi-instance-suite.js';

// Two `next start` on one fresh 3-master Redis Cluster (REDIS_CLUSTER=true: tokens and rate
// limits through ioredis Cluster), behind a round-robin proxy. The cluster comes from Debian's
// redis-server, which the suite's machine always has.
multiInstanceSuite('redis-cluster', true);
