import { cookies } from 'next/headers';
import type { NextRequest } from 'next/server';
import NextAuth from 'next-auth';
import { getAuthOptions } from '@/lib/auth-options';
import { nextAuthFailure, screenNextAuthRequest } from '@/lib/next-auth-guard';

export const dynamic = 'force-dynamic';

// Options are built per process from run-time configuration, so they are passed per call.
async function handler(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }) {
  const options = getAuthOptions();
  // A provider's own id is in `options` (next-auth merges it in when it parses the providers).
  const credentialProviders = options.providers
    .filter((p) => p.type === 'credentials')
    .map((p) => (p as { options?: { id?: string } }).options?.id ?? p.id);
  const refused = screenNextAuthRequest(
    request,
    (await cookies()).getAll(),
    (await context.params).nextauth ?? [],
    credentialProviders,
  );
  if (refused) return refused;
  try {
    const response = (await NextAuth(request, context, options)) as Response;
    // What is left of next-auth's 500s comes from the request (its own configuration was checked
    // at start): a 400 without its "check the server logs" text.
    return response.status >= 500
      ? nextAuthFailure(request, `status ${response.status}`)
      : response;
  } catch (error) {
    return nextAuthFailure(request, error);
  }
}

export { handler as GET, handler as POST };
