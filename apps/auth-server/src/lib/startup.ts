import { ConfigError, getConfig } from './config';
import { installNodeGuard } from './node-guard';
import { isTokenRequest, serveToken } from './token-endpoint';

type Env = Record<string, string | undefined>;

/**
 * One line per variable of the guide this app reads no further, saying why: set without a
 * word, they would look like they did something.
 *
 * @example
 * guideNotices({ JWT_SECRET_KEY: 'x' }) // ['[auth-server] JWT_SECRET_KEY is set but not used: …']
 */
export function guideNotices(env: Env): string[] {
  const set = (name: string) => Boolean(env[name]?.trim());
  const notices: string[] = [];
  if (set('JWT_SECRET_KEY')) {
    notices.push(
      '[auth-server] JWT_SECRET_KEY is set but not used: access tokens are ES256 JWTs (RFC 9068) signed with SIGNING_KEY or a generated key and verified through /jwks.json; an HS256 secret shared with resource servers would let each of them mint tokens',
    );
  }
  const serviceAccount = ['FIREBASE_PRIVATE_KEY', 'FIREBASE_CLIENT_EMAIL'].filter(set);
  if (serviceAccount.length > 0) {
    notices.push(
      `[auth-server] ${serviceAccount.join(' and ')} ${serviceAccount.length > 1 ? 'are' : 'is'} set but not needed: Firebase ID tokens are verified against Google's public keys, which takes no service account (sign-in needs FIREBASE_PROJECT_ID and FIREBASE_API_KEY)`,
    );
  }
  return notices;
}

/**
 * Validates the configuration, puts the Node guard in front of Next.js and prints one summary
 * line; exits(1) with one line if the configuration is bad.
 */
export function checkConfigAtStartup(): void {
  try {
    const config = getConfig();
    const loopbackOnly = !config.production && !config.devAllowRemote;
    installNodeGuard({ loopbackOnly, direct: { matches: isTokenRequest, serve: serveToken } });
    const providers = [
      config.devLogin && 'dev login (development only)',
      config.auth0 && 'Auth0',
      config.firebase && (config.firebase.emulatorHost ? 'Firebase (emulator)' : 'Firebase'),
    ].filter(Boolean);
    console.log(
      `[auth-server] issuer ${config.issuer} · store ${config.storage.kind} · sign-in: ${providers.join(', ')}${config.production ? '' : ' · development mode'}${loopbackOnly ? ' · connections from this machine only (DEV_ALLOW_REMOTE=true to allow others)' : ''}`,
    );
    for (const notice of guideNotices(process.env)) console.log(notice);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
