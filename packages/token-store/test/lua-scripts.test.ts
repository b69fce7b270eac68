import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  clusterAdmit,
  clusterIndex,
  clusterRevoke,
  clusterWrite,
} from '../src/redis/lua/cluster.js';
import { consume } from '../src/redis/lua/consume.js';
import { deleteRecord } from '../src/redis/lua/delete.js';
import { feedAdd, feedList, revokeAccessToken } from '../src/redis/lua/feed.js';
import { remember } from '../src/redis/lua/remember.js';
import { revokeFamily } from '../src/redis/lua/revoke-family.js';
import { rotate } from '../src/redis/lua/rotate.js';
import { setRecord } from '../src/redis/lua/set.js';
import { setMany } from '../src/redis/lua/set-many.js';

describe('Redis Lua scripts', () => {
  it.each([
    setRecord,
    setMany,
    consume,
    deleteRecord,
    revokeFamily,
    rotate,
    clusterAdmit,
    clusterIndex,
    clusterWrite,
    clusterRevoke,
    revokeAccessToken,
    feedAdd,
    feedList,
    remember,
  ])('the pinned EVALSHA hash of $name is the SHA-1 of its source', (script) => {
    expect(script.sha1).toBe(createHash('sha1').update(script.source).digest('hex'));
  });
});
