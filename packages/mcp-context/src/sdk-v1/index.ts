// Helpers for servers on `@modelcontextprotocol/sdk` 1.x; imports nothing of SDK 2.x.
export { type ProtectToolsOptions, protectTools } from './protect-tools.js';
