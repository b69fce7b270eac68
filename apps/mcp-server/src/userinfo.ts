/** What the user's authorization server says about them (OpenID Connect Core §5.3). */
export interface UserClaims {
  email?: string | undefined;
  name?: string | undefined;
}

/** Looks up the caller's claims with their own access token; undefined when it cannot. */
export type Userinfo = (caller: {
  token: string;
  userId: string | undefined;
  scopes: readonly string[];
}) => Promise<UserClaims | undefined>;

export interface UserinfoOptions {
  /** The authorization server (`ISSUER_URL`): its discovery document names `userinfo_endpoint`. */
  issuer: string;
  /** How long a user's claims are reused, in ms. Default 60 000. */
  ttlMs?: number;
  /** Most users whose claims are kept at once. Default 1000. */
  maxEntries?: number;
  /** Longest wait for the authorization server, in ms. Default 3000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Largest discovery document or userinfo answer read. */
const MAX_BODY = 64 * 1024;

async function readJson(response: Response): Promise<unknown> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (!response.ok || declared > MAX_BODY) return undefined;
  const text = await response.text();
  if (text.length > MAX_BODY) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The caller's email and name from their authorization server's userinfo endpoint, for tokens
 * granted the `openid` scope (the access token itself carries no personal data). The answer
 * counts only if its `sub` is the token's (OpenID Connect Core §5.3.2). Claims are kept per user
 * for `ttlMs` (bounded), so a busy user costs one lookup a minute; a failure is not kept.
 *
 * @example
 * const userinfo = createUserinfo({ issuer: 'http://localhost:3000' });
 * const claims = await userinfo({ token, userId: 'u_…', scopes: ['read', 'openid', 'email'] });
 */
export function createUserinfo(options: UserinfoOptions): Userinfo {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 1000;
  const timeoutMs = options.timeoutMs ?? 3000;
  const fetchImpl = options.fetch ?? fetch;
  const issuer = options.issuer.replace(/\/+$/, '');
  const cache = new Map<string, { claims: UserClaims; until: number }>();
  let endpoint: Promise<string | undefined> | undefined;

  const discover = () => {
    endpoint ??= fetchImpl(`${issuer}/.well-known/openid-configuration`, {
      signal: AbortSignal.timeout(timeoutMs),
    })
      .then(readJson)
      .then((document) => {
        const url = (document as { userinfo_endpoint?: unknown } | undefined)?.userinfo_endpoint;
        if (typeof url !== 'string' || !/^https?:\/\//.test(url)) throw new Error('no userinfo');
        return url;
      })
      .catch(() => {
        endpoint = undefined; // try again next time
        return undefined;
      });
    return endpoint;
  };

  return async ({ token, userId, scopes }) => {
    if (!userId || !scopes.includes('openid')) return undefined;
    const kept = cache.get(userId);
    if (kept && kept.until > Date.now()) return kept.claims;
    const url = await discover();
    if (!url) return undefined;
    try {
      const answer = (await readJson(
        await fetchImpl(url, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        }),
      )) as Record<string, unknown> | undefined;
      if (!answer || answer.sub !== userId) return undefined;
      const claims: UserClaims = {
        ...(typeof answer.email === 'string' ? { email: answer.email } : {}),
        ...(typeof answer.name === 'string' ? { name: answer.name } : {}),
      };
      cache.delete(userId);
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(userId, { claims, until: Date.now() + ttlMs });
      return claims;
    } catch {
      return undefined;
    }
  };
}
