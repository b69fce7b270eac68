export {
  type BearerAuthOptions,
  bearerAuth,
  type NodeMiddleware,
  type NodeRequest,
} from './bearer-auth.js';
export { originGuardMiddleware } from './origin-guard-middleware.js';
export { protectedResourceMetadataMiddleware } from './protected-resource-metadata-middleware.js';
