import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTPayload,
  jwtVerify,
} from 'jose';

/** Google's public keys for Firebase ID tokens (JWK form of the securetoken service account). */
export const FIREBASE_JWKS_URL =
  'https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com';

export interface FirebaseUser {
  uid: string;
  email?: string | undefined;
  /** Firebase's `email_verified` claim. */
  emailVerified: boolean;
  name?: string | undefined;
}

export class FirebaseTokenError extends Error {
  override name = 'FirebaseTokenError';
}

/** One remote key set per key URL (the configured one; Google's by default), cached by jose. */
const remoteKeySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function remoteKeys(url: string): ReturnType<typeof createRemoteJWKSet> {
  let keys = remoteKeySets.get(url);
  if (!keys) {
    keys = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30_000 });
    remoteKeySets.set(url, keys);
  }
  return keys;
}

const CLOCK_TOLERANCE = 5;

/**
 * Verifies a Firebase ID token the way the Admin SDK does, without the Admin SDK: RS256
 * signature against Google's secure-token JWKS, `iss` = https://securetoken.google.com/<project>,
 * `aud` = project id, `exp` in the future, `auth_time` and `iat` not in the future, `sub` present.
 * Emulator tokens are unsigned (`alg: none`); they are accepted only when `emulator` is true,
 * which the config allows only outside production, and their claims are still checked.
 * `jwksUrl` replaces Google's key URL (`FIREBASE_JWKS_URL`; tests serve their own key set there).
 *
 * @see https://firebase.google.com/docs/auth/admin/verify-id-tokens#verify_id_tokens_using_a_third-party_jwt_library
 * @example
 * const user = await verifyFirebaseIdToken(idToken, { projectId: 'my-app', emulator: false });
 */
export async function verifyFirebaseIdToken(
  idToken: unknown,
  options: { projectId: string; emulator: boolean; jwksUrl?: string; now?: () => number },
): Promise<FirebaseUser> {
  if (typeof idToken !== 'string' || idToken.length === 0 || idToken.length > 8192) {
    throw new FirebaseTokenError('missing or oversized ID token');
  }
  const issuer = `https://securetoken.google.com/${options.projectId}`;
  const now = Math.floor((options.now?.() ?? Date.now()) / 1000);
  let payload: JWTPayload;
  try {
    if (options.emulator) {
      const header = decodeProtectedHeader(idToken);
      if (header.alg !== 'none') throw new FirebaseTokenError('emulator tokens are unsigned');
      payload = decodeJwt(idToken);
    } else {
      const keys = remoteKeys(options.jwksUrl ?? FIREBASE_JWKS_URL);
      ({ payload } = await jwtVerify(idToken, keys, {
        issuer,
        audience: options.projectId,
        algorithms: ['RS256'],
        clockTolerance: CLOCK_TOLERANCE,
        ...(options.now ? { currentDate: new Date(now * 1000) } : {}),
        requiredClaims: ['exp', 'iat', 'sub', 'auth_time'],
      }));
    }
  } catch (cause) {
    if (cause instanceof FirebaseTokenError) throw cause;
    throw new FirebaseTokenError('ID token verification failed', { cause });
  }
  // Checked here for both modes (jwtVerify already did, decodeJwt does not).
  if (payload.iss !== issuer) throw new FirebaseTokenError('wrong issuer');
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (aud.length !== 1 || aud[0] !== options.projectId) {
    throw new FirebaseTokenError('wrong audience');
  }
  if (typeof payload.exp !== 'number' || payload.exp + CLOCK_TOLERANCE <= now) {
    throw new FirebaseTokenError('expired');
  }
  if (typeof payload.iat !== 'number' || payload.iat - CLOCK_TOLERANCE > now) {
    throw new FirebaseTokenError('issued in the future');
  }
  const authTime = payload.auth_time;
  if (typeof authTime !== 'number' || authTime - CLOCK_TOLERANCE > now) {
    throw new FirebaseTokenError('auth_time missing or in the future');
  }
  if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 128) {
    throw new FirebaseTokenError('sub missing or invalid');
  }
  return {
    uid: payload.sub,
    email: typeof payload.email === 'string' ? payload.email : undefined,
    emailVerified: payload.email_verified === true,
    name: typeof payload.name === 'string' ? payload.name : undefined,
  };
}
