import { randomBytes } from 'node:crypto';
import type { AuthOptions } from 'next-auth';
import Auth0Provider from 'next-auth/providers/auth0';
import CredentialsProvider from 'next-auth/providers/credentials';
import { z } from 'zod';
import { getServer } from './authorization-server';
import { isLoopbackAddress } from './client-address';
import { type Config, getConfig } from './config';
import { verifyFirebaseIdToken } from './firebase-token';
import { describeError, log } from './log';
import { PEER_HEADER, peerAddress } from './peer';

const SESSION_MAX_AGE = 8 * 60 * 60;

const devEmail = z.email().max(254);

/**
 * The next-auth (v4) options for this process, built from the run-time configuration:
 * dev login (development only), Auth0 (any OIDC issuer via AUTH0_ISSUER) and Firebase
 * (ID token posted to a credentials provider and verified with jose).
 *
 * Each sign-in is recorded in the user directory by provider and the provider's subject (so one
 * provider's subject can never collide with another's); the session and the tokens carry the
 * user's opaque `sub` from there, never the email.
 */
export function getAuthOptions(): AuthOptions {
  const config = getConfig();
  const cached = optionsFor.get(config);
  if (cached) return cached;
  const options = buildAuthOptions(config);
  optionsFor.set(config, options);
  return options;
}

const optionsFor = new WeakMap<Config, AuthOptions>();

function fromLoopback(headers: Record<string, unknown> | undefined): boolean {
  const stamp = headers?.[PEER_HEADER];
  if (typeof stamp !== 'string') return false;
  return isLoopbackAddress(peerAddress(new Headers({ [PEER_HEADER]: stamp })));
}

/** The options for one configuration (exported for tests; the app uses getAuthOptions). */
export function buildAuthOptions(config: Config): AuthOptions {
  const providers: AuthOptions['providers'] = [];
  if (config.devLogin) {
    providers.push(
      CredentialsProvider({
        id: 'dev-login',
        name: 'Development login',
        credentials: { email: { label: 'Email', type: 'email' } },
        async authorize(credentials, req) {
          // The Node guard already closes other machines' connections in development; this
          // holds even for a request that reached the server before the guard was installed.
          if (!config.production && !config.devAllowRemote && !fromLoopback(req.headers)) {
            log('warn', 'dev login refused: not from this machine');
            return null;
          }
          const email = devEmail.safeParse(credentials?.email?.trim().toLowerCase());
          if (!email.success) return null;
          // Nothing verifies a dev-login address: it is never reported as verified.
          return {
            id: email.data,
            email: email.data,
            name: email.data.split('@')[0],
            emailVerified: false,
          };
        },
      }),
    );
  }
  if (config.auth0) {
    providers.push(
      Auth0Provider({
        clientId: config.auth0.clientId,
        clientSecret: config.auth0.clientSecret,
        issuer: config.auth0.issuer,
      }),
    );
  }
  if (config.firebase) {
    const { projectId, emulatorHost, jwksUrl } = config.firebase;
    providers.push(
      CredentialsProvider({
        id: 'firebase',
        name: 'Firebase',
        credentials: { idToken: { label: 'Firebase ID token', type: 'text' } },
        async authorize(credentials) {
          try {
            const user = await verifyFirebaseIdToken(credentials?.idToken, {
              projectId,
              emulator: Boolean(emulatorHost) && !config.production,
              ...(jwksUrl ? { jwksUrl } : {}),
            });
            return {
              id: user.uid,
              email: user.email ?? null,
              name: user.name ?? user.email ?? null,
              emailVerified: user.emailVerified,
            };
          } catch (error) {
            log('warn', 'Firebase sign-in refused', { error: describeError(error) });
            return null;
          }
        },
      }),
    );
  }

  const secure = config.nextauthUrl.startsWith('https://');
  return {
    secret: config.nextauthSecret,
    providers,
    session: { strategy: 'jwt', maxAge: SESSION_MAX_AGE },
    pages: { signIn: '/login', error: '/login' },
    useSecureCookies: secure,
    // The session cookie gets the strictest prefix browsers offer: __Host- (Secure, Path=/,
    // no Domain), so no subdomain can set or read it.
    cookies: secure
      ? {
          sessionToken: {
            name: '__Host-next-auth.session-token',
            options: { httpOnly: true, sameSite: 'lax', path: '/', secure: true },
          },
          callbackUrl: {
            name: '__Host-next-auth.callback-url',
            options: { httpOnly: true, sameSite: 'lax', path: '/', secure: true },
          },
        }
      : {},
    callbacks: {
      async jwt({ token, user, account, profile }) {
        if (user && account) {
          // The person's opaque sub from the user directory, with the claims the provider
          // vouched for (kept for userinfo and ID tokens).
          const { users, events } = await getServer();
          const signedIn = await users.signIn(account.provider, user.id, {
            email: user.email ?? undefined,
            emailVerified: emailVerified(user, profile),
            name: user.name ?? undefined,
          });
          token.uid = signedIn.sub;
          token.provider = account.provider;
          // When the person signed in (seconds): the ID tokens' auth_time. next-auth's own `iat`
          // is renewed whenever the session cookie is, so it cannot say this.
          token.authTime = Math.floor(Date.now() / 1000);
          // A random id per sign-in, binding the consent CSRF tokens to this session.
          token.sid = randomBytes(16).toString('base64url');
          // The sign-in is the app's own audit event: the library never sees it. The
          // provider's tokens (account.access_token, id_token) are never logged.
          log('info', 'audit', {
            event: 'user.signed_in',
            provider: account.provider,
            sub: signedIn.sub,
          });
          // And on the user's account page (in the background: a sign-in never waits for it).
          events
            .record(signedIn.sub, {
              event: 'user.signed_in',
              at: Date.now(),
              provider: account.provider,
            })
            .catch((error: unknown) =>
              log('warn', 'security event not stored', { error: describeError(error) }),
            );
        }
        return token;
      },
      async session({ session, token }) {
        return {
          ...session,
          user: {
            ...session.user,
            id: typeof token.uid === 'string' ? token.uid : '',
            provider: typeof token.provider === 'string' ? token.provider : '',
          },
          sid: typeof token.sid === 'string' ? token.sid : '',
          ...(typeof token.authTime === 'number' ? { authTime: token.authTime } : {}),
        };
      },
      async redirect({ url, baseUrl }) {
        if (url.startsWith('/') && !url.startsWith('//')) return `${baseUrl}${url}`;
        try {
          if (new URL(url).origin === new URL(baseUrl).origin) return url;
        } catch {
          // fall through
        }
        return baseUrl;
      },
    },
    logger: {
      error(code, metadata) {
        // next-auth logs whole error objects (stacks quoting the input); keep one JSON line.
        const error =
          metadata instanceof Error
            ? metadata
            : ((metadata as { error?: unknown })?.error ?? (metadata as { message?: string }));
        log('error', 'next-auth error', { code, error: describeError(error) });
      },
      warn(code) {
        if (code !== 'DEBUG_ENABLED') log('warn', 'next-auth warning', { code });
      },
      debug() {},
    },
  };
}

/**
 * Whether the provider verified the user's email: the credentials providers say so on the user
 * they return (Firebase from its ID token, the dev login never); OpenID providers in the
 * profile's `email_verified`.
 */
function emailVerified(user: object, profile: object | undefined): boolean {
  if ('emailVerified' in user) return user.emailVerified === true;
  return (profile as { email_verified?: unknown } | undefined)?.email_verified === true;
}
