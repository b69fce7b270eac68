import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getServer } from '@/lib/authorization-server';
import { csrfToken } from '@/lib/csrf';
import type { SecurityEventName } from '@/lib/security-events';
import { currentUser } from '@/lib/session';
import { SignOutButton } from '../sign-out-button';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Your account · Portcullis' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

interface Row {
  clientId: string;
  name: string;
  /** Each resource (MCP server) the application may use, with its scopes. */
  resources: { resource: string; scopes: string[] }[];
  since: number;
  /** Live grants (codes not yet redeemed, live tokens). */
  grants: number;
}

/**
 * Every application this user has authorized: one row per client, built from the consents
 * (user × client × resource) and from every live grant, so a grant without a consent (or a
 * consent whose tokens are gone) is never invisible. Revoking withdraws the consents and
 * revokes the client's codes, access and refresh tokens.
 */
export default async function AccountPage({ searchParams }: { searchParams: SearchParams }) {
  const params = await searchParams;
  const user = await currentUser();
  if (!user) redirect('/login?callbackUrl=%2Faccount');
  const { as, store, events } = await getServer();
  const [consents, grants, activity] = await Promise.all([
    as.consents.list(user.id),
    as.grants.list(user.id),
    // The history is a convenience: the page still shows (and can revoke) without it.
    events.recent(user.id).catch(() => undefined),
  ]);
  const byClient = new Map<string, Omit<Row, 'name'>>();
  const entry = (clientId: string, since: number) => {
    let row = byClient.get(clientId);
    if (!row) {
      row = { clientId, resources: [], since, grants: 0 };
      byClient.set(clientId, row);
    }
    row.since = Math.min(row.since, since);
    return row;
  };
  const addScopes = (row: Omit<Row, 'name'>, resource: string, scopes: string[]) => {
    const known = row.resources.find((r) => r.resource === resource);
    if (known) known.scopes = [...new Set([...known.scopes, ...scopes])];
    else row.resources.push({ resource, scopes: [...scopes] });
  };
  for (const consent of consents) {
    addScopes(entry(consent.clientId, consent.createdAt), consent.resource ?? '', consent.scopes);
  }
  for (const grant of grants) {
    const row = entry(grant.clientId, grant.createdAt);
    row.grants++;
    addScopes(row, grant.resource ?? '', grant.scopes);
  }
  const names = new Map<string, Promise<string>>();
  const clientName = (clientId: string) => {
    let name = names.get(clientId);
    if (!name) {
      name = store.clients.find(clientId).then(
        (client) => client?.clientName ?? clientId,
        () => clientId,
      );
      names.set(clientId, name);
    }
    return name;
  };
  const rows: Row[] = await Promise.all(
    [...byClient.values()].map(async (row) => ({ ...row, name: await clientName(row.clientId) })),
  );
  const history = activity
    ? await Promise.all(
        activity.map(async (entry) => ({
          ...entry,
          name: entry.clientId ? await clientName(entry.clientId) : undefined,
        })),
      )
    : undefined;
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
          {rows.map(({ clientId, name, resources, since, grants: live }) => (
            <li key={clientId}>
              <strong>{name}</strong>
              {resources.map(({ resource, scopes }) => (
                <div className="muted" key={resource}>
                  {resource ? (
                    <>
                      On <code>{resource}</code>:{' '}
                    </>
                  ) : null}
                  <code>{scopes.join(' ')}</code>
                </div>
              ))}
              <div className="muted">
                Since {new Date(since).toISOString().slice(0, 10)} ·{' '}
                {live === 1 ? '1 active sign-in' : `${live} active sign-ins`}
              </div>
              <form method="post" action="/account/revoke">
                <input type="hidden" name="client_id" value={clientId} />
                <input
                  type="hidden"
                  name="csrf"
                  value={csrfToken('revoke', user.sid, user.id, clientId)}
                />
                <button type="submit" className="danger" aria-label={`Revoke access for ${name}`}>
                  Revoke access
                </button>
              </form>
            </li>
          ))}
        </ul>
      )}
      <h2>Recent security activity</h2>
      {history === undefined ? (
        <p className="muted">Your recent activity could not be loaded just now.</p>
      ) : history.length === 0 ? (
        <p className="muted">Nothing yet.</p>
      ) : (
        <ul className="activity">
          {history.map((entry, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: entries have no id; the list is static
            <li key={i} data-event={entry.event}>
              <time dateTime={new Date(entry.at).toISOString()}>
                {new Date(entry.at).toISOString().replace('T', ' ').slice(0, 16)} UTC
              </time>{' '}
              {describeActivity(entry.event, entry.name, entry.provider)}
              {entry.ip ? <span className="muted"> · from {entry.ip}</span> : null}
            </li>
          ))}
        </ul>
      )}
      <SignOutButton callbackUrl="/login" label="Sign out" />
    </>
  );
}

/** What an entry of the history says, in words. */
function describeActivity(
  event: SecurityEventName,
  client: string | undefined,
  provider: string | undefined,
): string {
  const app = client ?? 'an application';
  switch (event) {
    case 'user.signed_in':
      return provider ? `Signed in (${provider})` : 'Signed in';
    case 'consent.granted':
      return `Gave ${app} access`;
    case 'consent.revoked':
      return `Revoked access for ${app}`;
    case 'token.revoked':
      return `${app} signed out (a token was revoked)`;
    case 'token.reuse_detected':
      return `A reused token of ${app} was refused; its access was revoked to be safe`;
  }
}
