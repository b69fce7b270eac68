import { handleOAuthRequest } from '@/lib/oauth-route';
import { guardRoute } from '@/lib/route-guard';

// Every endpoint of the library but /authorize (the app's own login and consent): /token,
// /register, /revoke, /introspect, /jwks.json; other paths answer 404. Pages and the routes
// below win over this catch-all.
export const dynamic = 'force-dynamic';

const handler = guardRoute(handleOAuthRequest);

export { handler as GET, handler as OPTIONS, handler as POST };
