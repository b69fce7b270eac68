export { nodePinnedFetch } from './pinned-fetch.js';
export { nodeResolveHost } from './resolve-host.js';
export { type FetchHandler, toNodeHandler } from './to-node-handler.js';
