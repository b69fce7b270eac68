// playwright-core's types for tests that drive Chromium, from the package that owns the
// dependency (the test packages reach playwright only through launchChromium()).
export type { Browser, BrowserContext, Page } from 'playwright-core';
