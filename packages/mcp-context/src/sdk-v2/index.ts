// Helpers for servers on `@modelcontextprotocol/server` 2.x; imports nothing of SDK 1.x.
export { type ProtectToolsOptions, protectTools } from './protect-tools.js';
export { scopeChallenge } from './scope-challenge.js';
