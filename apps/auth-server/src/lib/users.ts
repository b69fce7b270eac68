import { randomBytes } from 'node:crypto';
import { migrateOnce, type Queryable } from './app-tables';

/**
 * What a sign-in says about the person, as the provider vouched for it. Only what OpenID
 * Connect's `profile` and `email` scopes can release is kept.
 */
export interface UserClaims {
  email?: string | undefined;
  /** Whether the provider verified the address (the dev login verifies nothing: false). */
  emailVerified?: boolean | undefined;
  name?: string | undefined;
}

/** A user of this server: a stable opaque `sub`, the sign-in it comes from, the latest claims. */
export interface User extends UserClaims {
  /** The tokens' subject: random, stable across sign-ins, never derived from personal data. */
  sub: string;
  provider: string;
  /** The provider's own id for the person (Auth0's `sub`, Firebase's `uid`, the dev email). */
  subject: string;
  /** Epoch ms of the latest sign-in (when the claims were last refreshed). */
  updatedAt: number;
}

/**
 * The users who signed in, by provider and provider subject. `signIn` is atomic: two first
 * sign-ins of one person at once get the same `sub`.
 */
export interface UserDirectory {
  /** Creates what the directory needs in its store (once; under the instances' start-up lock). */
  prepare(): Promise<void>;
  /** Records a sign-in: the person's `sub` (created on the first), with the claims refreshed. */
  signIn(provider: string, subject: string, claims: UserClaims): Promise<User>;
  find(sub: string): Promise<User | undefined>;
}

/** Longer inputs are clipped (email: RFC 5321's 254); ids past this are refused. */
const MAX_SUBJECT = 255;
const MAX_NAME = 256;
const MAX_EMAIL = 254;
const SUB = /^u_[\w-]{22}$/;

/** A new opaque subject: 128 random bits. */
function newSub(): string {
  return `u_${randomBytes(16).toString('base64url')}`;
}

function clean(provider: string, subject: string, claims: UserClaims) {
  if (!provider || provider.length > 64 || !subject || subject.length > MAX_SUBJECT) {
    throw new RangeError('a sign-in needs a provider and a subject of at most 255 characters');
  }
  return {
    email: claims.email ? claims.email.slice(0, MAX_EMAIL) : null,
    emailVerified: claims.email ? claims.emailVerified === true : null,
    name: claims.name ? claims.name.slice(0, MAX_NAME) : null,
  };
}

/** On the embedded PGlite or Postgres: a table beside the token records. */
export function sqlUsers(db: Queryable, schema = 'public'): UserDirectory {
  const table = `"${schema}"."portcullis_users"`;
  const migrate = migrateOnce(
    db,
    schema,
    `CREATE TABLE IF NOT EXISTS ${table} (
       sub text PRIMARY KEY,
       provider text NOT NULL,
       subject text NOT NULL,
       email text,
       email_verified boolean,
       name text,
       created_at bigint NOT NULL,
       updated_at bigint NOT NULL,
       UNIQUE (provider, subject)
     )`,
  );
  const user = (row: Record<string, unknown>): User => ({
    sub: String(row.sub),
    provider: String(row.provider),
    subject: String(row.subject),
    ...(row.email != null ? { email: String(row.email) } : {}),
    ...(row.email_verified != null ? { emailVerified: Boolean(row.email_verified) } : {}),
    ...(row.name != null ? { name: String(row.name) } : {}),
    updatedAt: Number(row.updated_at),
  });
  return {
    async prepare() {
      await migrate();
    },
    async signIn(provider, subject, claims) {
      const { email, emailVerified, name } = clean(provider, subject, claims);
      await migrate();
      const now = Date.now();
      // One statement: the first sign-in inserts, a later (or concurrent) one keeps its sub.
      const { rows } = await db.query(
        `INSERT INTO ${table} (sub, provider, subject, email, email_verified, name, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (provider, subject) DO UPDATE SET
           email = EXCLUDED.email, email_verified = EXCLUDED.email_verified,
           name = EXCLUDED.name, updated_at = EXCLUDED.updated_at
         RETURNING sub, provider, subject, email, email_verified, name, updated_at`,
        [newSub(), provider, subject, email, emailVerified, name, now],
      );
      return user(rows[0] as Record<string, unknown>);
    },
    async find(sub) {
      if (!SUB.test(sub)) return undefined;
      await migrate();
      const { rows } = await db.query(
        `SELECT sub, provider, subject, email, email_verified, name, updated_at FROM ${table} WHERE sub = $1`,
        [sub],
      );
      return rows[0] ? user(rows[0] as Record<string, unknown>) : undefined;
    },
  };
}

type RedisClient = import('ioredis').Redis | import('ioredis').Cluster;

/**
 * On Redis (one node or a Cluster): `users:by:<provider>:<subject>` → sub, claimed with SET NX
 * (so concurrent first sign-ins agree), and the user as JSON under `users:<sub>`. Each command
 * touches one key, so the two may sit in different Cluster slots.
 */
export function redisUsers(redis: RedisClient, prefix: string): UserDirectory {
  const byProvider = (provider: string, subject: string) =>
    `${prefix}users:by:${provider}:${subject}`;
  const byId = (sub: string) => `${prefix}users:${sub}`;
  return {
    async prepare() {},
    async signIn(provider, subject, claims) {
      const { email, emailVerified, name } = clean(provider, subject, claims);
      const index = byProvider(provider, subject);
      const candidate = newSub();
      const claimed = await redis.set(index, candidate, 'NX');
      const sub = claimed === 'OK' ? candidate : await redis.get(index);
      if (!sub) throw new Error('user index vanished during sign-in');
      const user: User = {
        sub,
        provider,
        subject,
        ...(email !== null ? { email } : {}),
        ...(emailVerified !== null ? { emailVerified } : {}),
        ...(name !== null ? { name } : {}),
        updatedAt: Date.now(),
      };
      await redis.set(byId(sub), JSON.stringify(user));
      return user;
    },
    async find(sub) {
      if (!SUB.test(sub)) return undefined;
      const stored = await redis.get(byId(sub));
      if (!stored) return undefined;
      try {
        return JSON.parse(stored) as User;
      } catch {
        return undefined;
      }
    },
  };
}
