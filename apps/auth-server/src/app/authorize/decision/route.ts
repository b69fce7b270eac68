import { getServer } from '@/lib/authorization-server';
import { sameOrigin, verifyCsrfToken } from '@/lib/csrf';
import { asSeeOther, loginLocation, requestTooLong, seeOther } from '@/lib/redirect';
import { guardRoute } from '@/lib/route-guard';
import { currentUser } from '@/lib/session';

export const dynamic = 'force-dynamic';

function refuse(status: number, message: string): Response {
  return new Response(message, {
    status,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
  });
}

/**
 * The consent form's target. The original authorization request travels in the form and is
 * validated again from scratch; the CSRF token binds the decision to this session, this user
 * and exactly that request.
 */
export const POST = guardRoute(async (request: Request): Promise<Response> => {
  if (!sameOrigin(request)) return refuse(403, 'Cross-site request refused.');
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    return refuse(400, 'Expected a form submission.');
  }
  const query = form.get('request');
  const decision = form.get('decision');
  if (typeof query !== 'string' || (decision !== 'approve' && decision !== 'deny')) {
    return refuse(400, 'Malformed consent decision.');
  }
  const user = await currentUser();
  if (!user) {
    const location = loginLocation(query);
    return location ? seeOther(location) : requestTooLong();
  }
  if (!verifyCsrfToken(form.get('csrf'), 'consent', user.sid, user.id, query)) {
    return refuse(
      403,
      'This consent form has expired or was not issued to you. Go back and try again.',
    );
  }
  const { as } = await getServer();
  const parsed = await as.authorization.parse(new URLSearchParams(query), { request });
  if (!parsed.ok) return asSeeOther(parsed.response);
  if (decision === 'deny') return asSeeOther(parsed.pending.deny());
  return asSeeOther(await parsed.pending.approve(user.id, { authTime: user.authTime }));
});
