import { handleOAuthRequest } from '@/lib/oauth-route';

// Answered per request from run-time configuration; never prerendered at build.
export const dynamic = 'force-dynamic';

export { handleOAuthRequest as GET, handleOAuthRequest as OPTIONS, handleOAuthRequest as POST };
