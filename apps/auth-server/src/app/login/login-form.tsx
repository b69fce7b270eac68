'use client';

import { signIn } from 'next-auth/react';
import { type FormEvent, useId, useState } from 'react';

export interface FirebaseClientConfig {
  apiKey: string;
  authDomain: string;
  projectId: string;
  emulatorHost: string | null;
}

interface Props {
  callbackUrl: string;
  error?: string | undefined;
  devLogin: boolean;
  auth0: boolean;
  firebase: FirebaseClientConfig | null;
}

const ERRORS: Record<string, string> = {
  CredentialsSignin: 'Sign-in failed: those credentials were not accepted.',
  OAuthSignin: 'Could not start sign-in with Auth0. Try again in a moment.',
  OAuthCallback: 'Auth0 did not complete the sign-in. Try again.',
  OAuthAccountNotLinked: 'This account is linked to another sign-in method.',
  AccessDenied: 'Access was denied.',
  SessionRequired: 'Please sign in to continue.',
  Configuration: 'The server is misconfigured. Contact its administrator.',
};

function describe(code: string): string {
  return ERRORS[code] ?? 'Sign-in failed. Please try again.';
}

async function firebaseIdToken(
  config: FirebaseClientConfig,
  method: { email: string; password: string } | 'google',
): Promise<string> {
  const [{ initializeApp, getApps }, auth] = await Promise.all([
    import('firebase/app'),
    import('firebase/auth'),
  ]);
  const app =
    getApps().find((a) => a.name === 'portcullis') ??
    initializeApp(
      { apiKey: config.apiKey, authDomain: config.authDomain, projectId: config.projectId },
      'portcullis',
    );
  let instance: import('firebase/auth').Auth;
  try {
    // In memory only: the Firebase session is handed over to ours and not kept in the browser.
    instance = auth.initializeAuth(app, { persistence: auth.inMemoryPersistence });
    if (config.emulatorHost) {
      auth.connectAuthEmulator(instance, `http://${config.emulatorHost}`, {
        disableWarnings: true,
      });
    }
  } catch {
    instance = auth.getAuth(app);
  }
  const credential =
    method === 'google'
      ? await auth.signInWithPopup(
          instance,
          new auth.GoogleAuthProvider(),
          auth.browserPopupRedirectResolver,
        )
      : await auth.signInWithEmailAndPassword(instance, method.email, method.password);
  const token = await credential.user.getIdToken();
  await auth.signOut(instance);
  return token;
}

function firebaseMessage(error: unknown): string {
  const code = (error as { code?: string })?.code ?? '';
  if (
    code === 'auth/invalid-credential' ||
    code === 'auth/wrong-password' ||
    code === 'auth/user-not-found' ||
    code === 'auth/invalid-email'
  ) {
    return 'Sign-in failed: wrong email or password.';
  }
  if (code === 'auth/popup-closed-by-user' || code === 'auth/cancelled-popup-request') {
    return 'The Google sign-in window was closed before finishing.';
  }
  if (code === 'auth/too-many-requests') return 'Too many attempts. Wait a moment and try again.';
  if (code === 'auth/network-request-failed')
    return 'Could not reach Firebase. Check your connection.';
  return 'Sign-in with Firebase failed. Please try again.';
}

export function LoginForm({ callbackUrl, error, devLogin, auth0, firebase }: Props) {
  const [message, setMessage] = useState<string | undefined>(error ? describe(error) : undefined);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  // Credentials sign-ins stay on this page on failure (redirect: false) so the pending
  // authorization request in callbackUrl is not lost.
  async function credentials(provider: string, fields: Record<string, string>) {
    const result = await signIn(provider, { ...fields, callbackUrl, redirect: false });
    if (!result || result.error || !result.ok) {
      setMessage(describe(result?.error ?? 'CredentialsSignin'));
      setBusy(false);
      return;
    }
    window.location.assign(result.url ?? callbackUrl);
  }

  async function onDevLogin(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setMessage(undefined);
    const email = String(new FormData(event.currentTarget).get('email') ?? '');
    await credentials('dev-login', { email });
  }

  async function onFirebase(event: FormEvent<HTMLFormElement> | 'google') {
    let method: { email: string; password: string } | 'google' = 'google';
    if (event !== 'google') {
      event.preventDefault();
      const data = new FormData(event.currentTarget);
      method = {
        email: String(data.get('email') ?? ''),
        password: String(data.get('password') ?? ''),
      };
    }
    if (!firebase) return;
    setBusy(true);
    setMessage(undefined);
    let idToken: string;
    try {
      idToken = await firebaseIdToken(firebase, method);
    } catch (failure) {
      setMessage(firebaseMessage(failure));
      setBusy(false);
      return;
    }
    // Posted in the request body to next-auth, never placed in a URL.
    await credentials('firebase', { idToken });
  }

  const nothing = !devLogin && !auth0 && !firebase;
  return (
    <>
      <h1>Sign in</h1>
      <p className="muted">Sign in to continue to the application that sent you here.</p>
      <div aria-live="assertive">
        {message ? (
          <p className="alert error" role="alert" id={`${ids}-error`}>
            {message}
          </p>
        ) : null}
      </div>
      {nothing ? <p>No sign-in method is configured.</p> : null}

      {auth0 ? (
        <section aria-labelledby={`${ids}-auth0`}>
          <h2 id={`${ids}-auth0`}>Auth0</h2>
          <button type="button" disabled={busy} onClick={() => signIn('auth0', { callbackUrl })}>
            Continue with Auth0
          </button>
        </section>
      ) : null}

      {firebase ? (
        <section aria-labelledby={`${ids}-firebase`}>
          <h2 id={`${ids}-firebase`}>
            Firebase
            {firebase.emulatorHost ? <span className="badge">emulator</span> : null}
          </h2>
          <button
            type="button"
            className="secondary"
            disabled={busy}
            onClick={() => onFirebase('google')}
          >
            Continue with Google
          </button>
          <p className="divider">or with email</p>
          <form onSubmit={onFirebase} aria-describedby={message ? `${ids}-error` : undefined}>
            <label htmlFor={`${ids}-fb-email`}>Email</label>
            <input
              id={`${ids}-fb-email`}
              name="email"
              type="email"
              autoComplete="username"
              required
            />
            <label htmlFor={`${ids}-fb-password`}>Password</label>
            <input
              id={`${ids}-fb-password`}
              name="password"
              type="password"
              autoComplete="current-password"
              required
            />
            <button type="submit" disabled={busy}>
              Sign in with email
            </button>
          </form>
        </section>
      ) : null}

      {devLogin ? (
        <section aria-labelledby={`${ids}-dev`}>
          <h2 id={`${ids}-dev`}>
            Development login <span className="badge">development only</span>
          </h2>
          <p className="muted">
            Any email address signs in, without a password. Never enable this on a public server.
          </p>
          <form onSubmit={onDevLogin}>
            <label htmlFor={`${ids}-dev-email`}>Email</label>
            <input
              id={`${ids}-dev-email`}
              name="email"
              type="email"
              autoComplete="email"
              placeholder="you@example.com"
              required
            />
            <button type="submit" disabled={busy}>
              Sign in (development)
            </button>
          </form>
        </section>
      ) : null}
    </>
  );
}
