import { createAuthorizeHandler, parseAuthorizationRequest } from './endpoints/authorize.js';
import { createIntrospectHandler } from './endpoints/introspect.js';
import {
  createJwksHandler,
  createMetadataHandler,
  createOpenidConfigurationHandler,
} from './endpoints/metadata.js';
import { createRegisterHandler } from './endpoints/register.js';
import { createRevocationFeedHandler } from './endpoints/revocations.js';
import { createRevokeHandler } from './endpoints/revoke.js';
import { createTokenHandler } from './endpoints/token.js';
import { createUserinfoHandler } from './endpoints/userinfo.js';
import { createContext, PATHS } from './lib/context.js';
import type { Handler } from './lib/endpoint.js';
import type { PublicJwk } from './lib/keys.js';
import { bridged, isNodeRequest, pathnameOf } from './lib/node-bridge.js';
import type { ConsentRecord, GrantSummary } from './lib/store.js';
import { resolveTracer } from './lib/tracing.js';
import { invalidArgType } from './lib/type-error.js';
import type { AuthorizationServerOptions } from './options.js';
import type { AuthorizationParseResult } from './pending-authorization.js';

/** The endpoint handlers, each `(request: Request) => Promise<Response>`. */
export interface AuthorizationServerHandlers {
  metadata: Handler;
  openidConfiguration: Handler;
  jwks: Handler;
  authorize: Handler;
  token: Handler;
  register: Handler;
  revoke: Handler;
  introspect: Handler;
  /** OpenID Connect Core §5.3; answers 404 unless the `openid` option is set. */
  userinfo: Handler;
  /** The revocation feed; answers 404 unless the `revocationFeed` option is set. */
  revocations: Handler;
}

export interface AuthorizationServer {
  /** The issuer identifier, exactly as configured. */
  issuer: string;
  /** Routes a request to its endpoint by path; `undefined` when the path is not one of ours. */
  handle(request: Request): Promise<Response | undefined>;
  handlers: AuthorizationServerHandlers;
  authorization: {
    /** Validates an /authorize request for the app's login and consent pages. */
    parse(
      params: URLSearchParams,
      options?: { request?: Request },
    ): Promise<AuthorizationParseResult>;
  };
  consents: {
    /** A user's standing consents, one per client × resource. */
    list(userId: string): Promise<ConsentRecord[]>;
    /**
     * Withdraws every consent the user gave the client and revokes everything issued to it for
     * that user: outstanding codes, access tokens and refresh tokens (their grants are revoked
     * for good). Resolves whether there was anything to withdraw.
     */
    revoke(userId: string, clientId: string): Promise<boolean>;
  };
  clients: {
    /**
     * Deletes the clients whose registration has expired (unused dynamic clients), at most
     * `limit` (default 100, up to 1000), emits `client.expired` for each and resolves their ids.
     * Each expired client is named once, however many instances sweep. Call it periodically, more
     * often than the store adapter's `expiredRetentionSeconds` (default 300): memory and
     * Postgres/PGlite drop expired records on their own after that, unreported. Rejects with a
     * TypeError when the store has no `clients.sweepExpired`.
     */
    sweepExpired(options?: { limit?: number }): Promise<string[]>;
  };
  grants: {
    /**
     * A user's live grants (one per family holding an unredeemed code or a live token), so an
     * account page shows everything the user authorized, consent or not.
     */
    list(userId: string): Promise<GrantSummary[]>;
  };
  keys: {
    /** The published verification keys (the JWKS). */
    list(): Promise<PublicJwk[]>;
    /**
     * Generates a new signing key, published now and signing after `publishSeconds`
     * (default 600); the old key stays published until its access tokens have expired.
     */
    rotate(options?: { publishSeconds?: number }): Promise<{ kid: string; activatesAt: number }>;
  };
  /** Drops in-memory caches. The store belongs to the caller and is not closed. */
  close(): Promise<void>;
}

function wellKnownPaths(issuerPath: string, name: string): string[] {
  // RFC 8414 §3.1 path insertion, plus the OIDC Discovery §4 appended form.
  return issuerPath === ''
    ? [`/.well-known/${name}`]
    : [`/.well-known/${name}${issuerPath}`, `${issuerPath}/.well-known/${name}`];
}

/**
 * Creates the OAuth 2.1 authorization server for MCP: metadata (RFC 8414, OIDC Discovery),
 * JWKS, authorize (with PKCE, RFC 8707 resources, RFC 9207 `iss`), token (RFC 9068 JWT access
 * tokens, refresh rotation), DCR (RFC 7591), Client ID Metadata Documents, revoke (RFC 7009)
 * and introspect (RFC 7662), as fetch-style handlers. See the
 * [MCP authorization specification](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization).
 *
 * @example
 * const as = await createAuthorizationServer({
 *   issuer: 'https://auth.example.com',
 *   store: createTokenStore({ adapter: memoryAdapter() }),
 *   resources: [{ uri: 'https://mcp.example.com/mcp' }],
 *   scopes: { read: 'Read your data', write: 'Change your data' },
 * });
 * export default { fetch: async (req: Request) => (await as.handle(req)) ?? new Response(null, { status: 404 }) };
 */
export async function createAuthorizationServer(
  options: AuthorizationServerOptions,
): Promise<AuthorizationServer> {
  const ctx = createContext(options);
  ctx.tracer = await resolveTracer('@portcullis/oauth-server', options);
  // Fail at start-up on a bad configured key or an unreachable store, not at the first token.
  await ctx.keys.signingKey();

  // Each handler, and handle(), carries the bridge that toNodeHandler uses (node-bridge.ts).
  const handlers: AuthorizationServerHandlers = {
    metadata: bridged(createMetadataHandler(ctx)),
    openidConfiguration: bridged(createOpenidConfigurationHandler(ctx)),
    jwks: bridged(createJwksHandler(ctx)),
    authorize: bridged(createAuthorizeHandler(ctx)),
    token: bridged(createTokenHandler(ctx)),
    register: bridged(createRegisterHandler(ctx)),
    revoke: bridged(createRevokeHandler(ctx)),
    introspect: bridged(createIntrospectHandler(ctx)),
    userinfo: bridged(
      ctx.openid ? createUserinfoHandler(ctx) : async () => new Response(null, { status: 404 }),
    ),
    revocations: bridged(
      ctx.revocationFeed
        ? createRevocationFeedHandler(ctx, ctx.revocationFeed)
        : async () => new Response(null, { status: 404 }),
    ),
  };

  const routes = new Map<string, Handler>();
  for (const path of wellKnownPaths(ctx.issuerPath, 'oauth-authorization-server'))
    routes.set(path, handlers.metadata);
  for (const path of wellKnownPaths(ctx.issuerPath, 'openid-configuration'))
    routes.set(path, handlers.openidConfiguration);
  routes.set(ctx.issuerPath + PATHS.jwks, handlers.jwks);
  routes.set(ctx.issuerPath + PATHS.token, handlers.token);
  routes.set(ctx.issuerPath + PATHS.revocation, handlers.revoke);
  routes.set(ctx.issuerPath + PATHS.introspection, handlers.introspect);
  if (ctx.allowRegistration) routes.set(ctx.issuerPath + PATHS.registration, handlers.register);
  if (ctx.openid) routes.set(ctx.issuerPath + PATHS.userinfo, handlers.userinfo);
  if (ctx.revocationFeed) {
    routes.set(ctx.issuerPath + ctx.revocationFeed.path, handlers.revocations);
  }
  if (ctx.interaction) routes.set(ctx.issuerPath + PATHS.authorization, handlers.authorize);

  return {
    issuer: ctx.issuer,
    // Not an async function: the endpoint's own promise is returned as it is, without another
    // promise resolved from it.
    handle: bridged((request: Request): Promise<Response | undefined> => {
      if (!(request instanceof Request) && !isNodeRequest(request)) {
        return Promise.reject(invalidArgType('handle() takes a fetch Request'));
      }
      let pathname: string;
      try {
        pathname = pathnameOf(request);
      } catch {
        return Promise.resolve(undefined);
      }
      const handler = routes.get(pathname.length > 1 ? pathname.replace(/\/$/, '') : pathname);
      return handler ? handler(request) : Promise.resolve(undefined);
    }),
    handlers,
    authorization: {
      parse: (params, parseOptions) =>
        parseAuthorizationRequest(ctx, params, parseOptions?.request),
    },
    consents: {
      list: (userId) => ctx.store.consents.listByUser(userId),
      async revoke(userId, clientId) {
        const withdrawn = await ctx.store.consents.revoke(userId, clientId);
        if (withdrawn) ctx.audit({ event: 'consent.revoked', clientId, sub: userId });
        return withdrawn;
      },
    },
    clients: {
      async sweepExpired(sweepOptions) {
        if (typeof ctx.store.clients.sweepExpired !== 'function') {
          throw invalidArgType(
            'the store has no clients.sweepExpired (use @portcullis/token-store)',
          );
        }
        const ids = await ctx.store.clients.sweepExpired(sweepOptions);
        for (const clientId of ids) ctx.audit({ event: 'client.expired', clientId });
        return ids;
      },
    },
    grants: {
      list: (userId) => ctx.store.grantsByUser(userId),
    },
    keys: {
      list: () => ctx.keys.publicKeys(),
      rotate: (rotateOptions) => ctx.keys.rotate(rotateOptions),
    },
    async close() {
      ctx.cimd.clear();
      ctx.keys.invalidate();
    },
  };
}
