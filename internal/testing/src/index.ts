export type { Browser, BrowserContext, Page } from './browser-types.js';
export { CHROMIUM_PATH, chromiumAvailable, launchChromium } from './chromium.js';
export { createTestDatabase, type TestDatabase } from './database.js';
export { isCI, serviceAvailable, TEST_DATABASE_URL, TEST_REDIS_URL } from './services.js';
export { serveFolder } from './static-server.js';
