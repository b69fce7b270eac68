import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getServer } from '@/lib/authorization-server';
import { csrfToken } from '@/lib/csrf';
import { currentUser } from '@/lib/session';
import { SignOutButton } from '../sign-out-button';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Your account · Portcullis' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

/** The applications this user has authorized, each with a revoke button. */
export default async function AccountPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const user = await currentUser();
  if (!user) redirect('/login?callbackUrl=%2Faccount');
  const { as, store } = await getServer();
  const consents = await as.consents.list(user.id);
  const rows = await Promise.all(
    consents.map(async (consent) => {
      const client = await store.clients.find(consent.clientId).catch(() => undefined);
      return { consent, name: client?.clientName ?? consent.clientId };
    }),
  );
  return (
    <>
      <h1>Your account</h1>
      <p className="who">
        Signed in as <strong>{user.email ?? user.name ?? user.id}</strong>
        {user.provider ? <span className="muted"> via {user.provider}</span> : null}.
      </p>
      {params.revoked ? (
        <p className="alert info" role="status">
          Access revoked. That application must ask you again.
        </p>
      ) : null}
      <h2>Applications with access</h2>
      {rows.length === 0 ? (
        <p className="muted">You have not authorized any application.</p>
      ) : (
        <ul className="clients">
          {rows.map(({ consent, name }) => (
            <li key={consent.clientId}>
              <strong>{name}</strong>
              <div className="muted">
                Scopes: <code>{consent.scopes.join(' ')}</code> · since{' '}
                {new Date(consent.createdAt).toISOString().slice(0, 10)}
              </div>
              <form method="post" action="/account/revoke">
                <input type="hidden" name="client_id" value={consent.clientId} />
                <input
                  type="hidden"
                  name="csrf"
                  value={csrfToken('revoke', user.sid, user.id, consent.clientId)}
                />
                <button type="submit" className="danger" aria-label={`Revoke access for ${name}`}>
                  Revoke access
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <SignOutButton callbackUrl="/login" label="Sign out" />
    </>
  );
}
