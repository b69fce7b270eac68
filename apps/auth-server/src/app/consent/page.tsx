import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { getServer } from '@/lib/authorization-server';
import { csrfToken } from '@/lib/csrf';
import { loginLocation } from '@/lib/redirect';
import { currentUser } from '@/lib/session';
import { SignOutButton } from '../sign-out-button';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Authorize access · Portcullis' };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function toQuery(params: Record<string, string | string[] | undefined>): URLSearchParams {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
      query.append(key, v);
    }
  }
  return query;
}

/**
 * The consent screen: who is asking (client name, where the answer goes), for what (each
 * scope with its description), approve or deny. The request is validated again here; the
 * decision is posted with a session-bound CSRF token.
 */
export default async function ConsentPage({ searchParams }: { searchParams: SearchParams }) {
  const query = toQuery(await searchParams);
  // Validated before anything else: only a real authorization request is carried through the
  // sign-in page, and never one too long for a Location header.
  const { as, store } = await getServer();
  const parsed = await as.authorization.parse(query);
  const user = parsed.ok ? await currentUser() : undefined;
  const login = parsed.ok && !user ? loginLocation(query.toString()) : undefined;
  if (login) redirect(login);
  if (!parsed.ok || !user) {
    return (
      <>
        <h1>This request cannot be completed</h1>
        <p className="alert error" role="alert">
          The authorization request is invalid or has expired. Return to the application and start
          again.
        </p>
      </>
    );
  }
  const pending = parsed.pending;
  const name = pending.clientName ?? pending.clientId;
  // A client authorized again (a step-up) is shown only what is new; what this user already
  // approved for this client and resource is named apart.
  const consent = await store.consents.find(user.id, pending.clientId, {
    resource: pending.resource,
  });
  const approved = new Set(consent?.scopes);
  const asked = pending.scopeDescriptions.filter(({ scope }) => !approved.has(scope));
  const shown = asked.length > 0 ? asked : pending.scopeDescriptions;
  const kept = pending.scopeDescriptions.filter(({ scope }) => approved.has(scope));
  const stepUp = kept.length > 0 && asked.length > 0;
  const request = query.toString();
  const csrf = csrfToken('consent', user.sid, user.id, request);
  return (
    <>
      <h1>
        Allow <span className="client-name">{name}</span> to access your account?
      </h1>
      {pending.clientIdHost ? (
        // The name is what the client's own document declares; the host is what was verified.
        <p className="muted">
          Identified by its metadata document at <strong>{pending.clientIdHost}</strong>.
        </p>
      ) : null}
      {/* A consent covers one resource: approving one MCP server is not approving another. */}
      <p className="resource">
        On the MCP server <code>{pending.resource}</code>
      </p>
      <p className="muted">
        After you decide, you will be sent back to <strong>{pending.redirectHost}</strong>.
      </p>
      {pending.localhostOnly ? (
        <p className="alert warning" role="note">
          This application runs on a computer&apos;s own address (localhost). Approve only if you
          started it yourself just now.
        </p>
      ) : null}
      {pending.clientName ? null : (
        <p className="alert warning" role="note">
          This application did not give a name; it is identified only by{' '}
          <code>{pending.clientId}</code>.
        </p>
      )}
      <h2>{stepUp ? 'It will also be able to:' : 'It will be able to:'}</h2>
      <ul className="scopes">
        {shown.map(({ scope, description }) => (
          <li key={scope}>
            <code>{scope}</code> — {description}
          </li>
        ))}
      </ul>
      {stepUp ? (
        <p className="muted already">
          You already allowed it: {kept.map(({ scope }) => scope).join(', ')}.
        </p>
      ) : null}
      <form method="post" action="/authorize/decision">
        <input type="hidden" name="request" value={request} />
        <input type="hidden" name="csrf" value={csrf} />
        <div className="actions">
          <button type="submit" name="decision" value="deny" className="secondary">
            Deny
          </button>
          <button type="submit" name="decision" value="approve">
            Approve
          </button>
        </div>
      </form>
      <p className="who muted" style={{ marginTop: '1rem' }}>
        Signed in as <strong>{user.email ?? user.name ?? user.id}</strong>.
      </p>
      <SignOutButton callbackUrl={`/authorize?${request}`} label="Not you? Sign out" />
    </>
  );
}
