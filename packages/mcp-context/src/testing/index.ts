export { connectTestClient, type TestAuth } from './connect-test-client.js';
export { createTestIssuer, type MintOptions, type TestIssuer } from './create-test-issuer.js';
