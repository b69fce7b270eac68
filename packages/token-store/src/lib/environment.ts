interface MaybeProcess {
  process?: { env?: Record<string, string | undefined> };
}

/**
 * `NODE_ENV === 'production'`, read without importing `node:process` so the core still runs
 * where there is no `process` (edge runtimes, browsers): there it is `false`.
 */
export function isProductionEnvironment(): boolean {
  return (globalThis as MaybeProcess).process?.env?.NODE_ENV === 'production';
}
