import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getConfig } from '@/lib/config';
import { safeCallbackUrl } from '@/lib/safe-callback';
import { currentUser } from '@/lib/session';
import { LoginForm } from './login-form';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Sign in · Portcullis' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

export default async function LoginPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const config = getConfig();
  const callbackUrl = safeCallbackUrl(params.callbackUrl, config.nextauthUrl);
  if (!params.error && (await currentUser())) redirect(callbackUrl);
  const error = typeof params.error === 'string' ? params.error : undefined;
  return (
    <LoginForm
      callbackUrl={callbackUrl}
      error={error}
      devLogin={config.devLogin}
      auth0={Boolean(config.auth0)}
      // Public values only (the API key of a Firebase web app is not a secret).
      firebase={
        config.firebase
          ? {
              apiKey: config.firebase.apiKey,
              authDomain: config.firebase.authDomain,
              projectId: config.firebase.projectId,
              emulatorHost: config.firebase.emulatorHost ?? null,
            }
          : null
      }
    />
  );
}
