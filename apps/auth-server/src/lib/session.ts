import { getServerSession } from 'next-auth';
import { getAuthOptions } from './auth-options';
import { describeError, log } from './log';

export interface CurrentUser {
  id: string;
  sid: string;
  provider: string;
  name?: string | null | undefined;
  email?: string | null | undefined;
  /** When the person signed in, in seconds since the epoch (absent in sessions older than it). */
  authTime?: number | undefined;
}

/**
 * The signed-in user of the current request (server components and route handlers), or null.
 *
 * @example
 * const user = await currentUser();
 * if (!user) redirect('/login');
 */
export async function currentUser(): Promise<CurrentUser | null> {
  type Session = {
    user?: { id?: string; provider?: string; name?: string | null; email?: string | null };
    sid?: string;
    authTime?: number;
  } | null;
  let session: Session;
  try {
    session = (await getServerSession(getAuthOptions())) as Session;
  } catch (error) {
    // next-auth throws on a malformed cookie (a callback-url that is not a URL): no session.
    log('warn', 'session unreadable', { error: describeError(error) });
    return null;
  }
  const id = session?.user?.id;
  if (!session || !id || !session.sid) return null;
  return {
    id,
    sid: session.sid,
    provider: session.user?.provider ?? '',
    name: session.user?.name,
    email: session.user?.email,
    ...(typeof session.authTime === 'number' ? { authTime: session.authTime } : {}),
  };
}
