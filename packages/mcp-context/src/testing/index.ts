// Test helpers. Each client helper loads its SDK era when called, so this entry (and
// `createTestIssuer`) loads with either SDK, or none, installed.
export { connectTestClient, type TestAuth } from './connect-test-client.js';
export { connectTestClientV2 } from './connect-test-client-v2.js';
export { createTestIssuer, type MintOptions, type TestIssuer } from './create-test-issuer.js';
