import type { AuditEvent } from '@portcullis/oauth-server';
import { migrateOnce, type Queryable } from './app-tables';
import { describeError, log } from './log';

/** The events a user sees on their account page: sign-ins, grants, withdrawals, revocations. */
export type SecurityEventName =
  | 'user.signed_in'
  | 'consent.granted'
  | 'consent.revoked'
  | 'token.revoked'
  | 'token.reuse_detected';

/** One line of a user's recent security activity: identifiers only, never a token or secret. */
export interface SecurityEvent {
  event: SecurityEventName;
  /** Epoch ms. */
  at: number;
  clientId?: string | undefined;
  /** The sign-in provider (`user.signed_in`). */
  provider?: string | undefined;
  ip?: string | undefined;
}

/**
 * A bounded per-user history: the newest {@link KEEP_PER_USER} events, none older than
 * {@link KEEP_DAYS} days. Token issuance and refreshes are not kept (they are routine and would
 * cost a write per grant); the audit log lines have every event.
 */
export interface SecurityEventLog {
  /** Creates what the log needs in its store (once; instances starting together take turns). */
  prepare(): Promise<void>;
  /** Stores an event. Rejects when the store is unreachable; the caller decides what that means. */
  record(sub: string, event: SecurityEvent): Promise<void>;
  /** The user's events, newest first. */
  recent(sub: string): Promise<SecurityEvent[]>;
}

export const KEEP_PER_USER = 50;
export const KEEP_DAYS = 90;
const KEEP_MS = KEEP_DAYS * 24 * 3600 * 1000;
/** A `sub` longer than this is not one of ours; nothing is stored for it. */
const MAX_SUB = 512;

const KEPT: ReadonlySet<string> = new Set<SecurityEventName>([
  'consent.granted',
  'consent.revoked',
  'token.revoked',
  'token.reuse_detected',
]);

/**
 * The account-page entry for an authorization-server audit event, with its user, or undefined
 * for events that are not kept (or carry no user).
 */
export function securityEventOf(
  audit: AuditEvent,
): { sub: string; event: SecurityEvent } | undefined {
  if (!KEPT.has(audit.event) || !('sub' in audit) || !audit.sub) return undefined;
  // A machine client's own token (client credentials): `sub` is the client, no user's history.
  if (audit.sub === audit.clientId) return undefined;
  const at = Date.parse(audit.time);
  return {
    sub: audit.sub,
    event: {
      event: audit.event as SecurityEventName,
      at: Number.isNaN(at) ? Date.now() : at,
      clientId: audit.clientId,
      ...(audit.ip ? { ip: audit.ip } : {}),
    },
  };
}

/**
 * Records without holding anyone up: audit listeners are never awaited, and a store that is
 * down loses the account-page entry (the audit line is still written), reported once per outage.
 */
export function recordInBackground(
  events: SecurityEventLog,
): (sub: string, event: SecurityEvent) => void {
  let failing = false;
  return (sub, event) => {
    events.record(sub, event).then(
      () => {
        failing = false;
      },
      (error: unknown) => {
        if (failing) return;
        failing = true;
        log('warn', 'security event not stored', { error: describeError(error) });
      },
    );
  };
}

/**
 * On the embedded PGlite or Postgres: one table beside the token records. Each insert trims the
 * user's history to the newest {@link KEEP_PER_USER} and drops what is past {@link KEEP_DAYS},
 * in the same statement, so the table is bounded per user whatever the order of writes.
 */
export function sqlSecurityEvents(db: Queryable, schema = 'public'): SecurityEventLog {
  const table = `"${schema}"."portcullis_security_events"`;
  const migrate = migrateOnce(
    db,
    schema,
    `CREATE TABLE IF NOT EXISTS ${table} (
       id bigserial PRIMARY KEY,
       sub text NOT NULL,
       at bigint NOT NULL,
       event text NOT NULL,
       client_id text,
       provider text,
       ip text
     )`,
    `CREATE INDEX IF NOT EXISTS portcullis_security_events_sub ON ${table} (sub, id DESC)`,
  );
  return {
    async prepare() {
      await migrate();
    },
    async record(sub, event) {
      if (sub.length > MAX_SUB) return;
      await migrate();
      await db.query(
        `WITH added AS (
           INSERT INTO ${table} (sub, at, event, client_id, provider, ip)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING id
         )
         DELETE FROM ${table} WHERE sub = $1 AND (at < $7 OR id IN (
           SELECT id FROM ${table} WHERE sub = $1 ORDER BY id DESC OFFSET $8
         ))`,
        [
          sub,
          event.at,
          event.event,
          event.clientId ?? null,
          event.provider ?? null,
          event.ip ?? null,
          event.at - KEEP_MS,
          // The new row is not visible to the DELETE's subquery (same statement): keep one fewer.
          KEEP_PER_USER - 1,
        ],
      );
    },
    async recent(sub) {
      if (sub.length > MAX_SUB) return [];
      await migrate();
      const { rows } = await db.query(
        `SELECT at, event, client_id, provider, ip FROM ${table}
         WHERE sub = $1 AND at >= $2 ORDER BY id DESC LIMIT $3`,
        [sub, Date.now() - KEEP_MS, KEEP_PER_USER],
      );
      return (rows as Record<string, unknown>[]).map((row) => ({
        event: row.event as SecurityEventName,
        at: Number(row.at),
        ...(row.client_id ? { clientId: String(row.client_id) } : {}),
        ...(row.provider ? { provider: String(row.provider) } : {}),
        ...(row.ip ? { ip: String(row.ip) } : {}),
      }));
    },
  };
}

type RedisClient = import('ioredis').Redis | import('ioredis').Cluster;

/**
 * On Redis (one node or a Cluster): one list per user, trimmed to {@link KEEP_PER_USER} and
 * expiring {@link KEEP_DAYS} days after its last event, written in one MULTI on one key.
 */
export function redisSecurityEvents(redis: RedisClient, prefix: string): SecurityEventLog {
  const key = (sub: string) => `${prefix}security-events:${sub}`;
  return {
    async prepare() {},
    async record(sub, event) {
      if (sub.length > MAX_SUB) return;
      const k = key(sub);
      const results = await redis
        .multi()
        .lpush(k, JSON.stringify(event))
        .ltrim(k, 0, KEEP_PER_USER - 1)
        .pexpire(k, KEEP_MS)
        .exec();
      const failed = results?.find(([error]) => error)?.[0];
      if (failed) throw failed;
    },
    async recent(sub) {
      if (sub.length > MAX_SUB) return [];
      const since = Date.now() - KEEP_MS;
      const entries = await redis.lrange(key(sub), 0, KEEP_PER_USER - 1);
      const events: SecurityEvent[] = [];
      for (const entry of entries) {
        try {
          const event = JSON.parse(entry) as SecurityEvent;
          if (typeof event.at === 'number' && event.at >= since) events.push(event);
        } catch {
          // a damaged entry is skipped, not shown
        }
      }
      return events;
    },
  };
}
