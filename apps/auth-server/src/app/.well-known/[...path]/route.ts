import { handleOAuthRequest } from '@/lib/oauth-route';
import { guardRoute } from '@/lib/route-guard';

// RFC 8414 and OpenID Connect discovery documents, including their path-inserted forms.
export const dynamic = 'force-dynamic';

const handler = guardRoute(handleOAuthRequest);

export { handler as GET, handler as OPTIONS, handler as POST };
