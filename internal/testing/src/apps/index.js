// `@portcullis/internal-testing/apps`: the built apps as child processes and the OAuth flow over
// plain HTTP, for apps/auth-server's tests and internal/e2e (its tests, and its bench under plain
// `node`: no TypeScript here, JSDoc types instead).
export * from './apps.js';
export * from './http-flow.js';
export * from './loopback.js';
export * from './processes.js';
