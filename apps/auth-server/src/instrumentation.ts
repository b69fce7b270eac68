/**
 * Runs once when the server starts. Configuration is checked then, so a bad or missing
 * variable stops the server with one clear line instead of failing on the first request.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME === 'nodejs') {
    const { checkConfigAtStartup } = await import('./lib/startup');
    checkConfigAtStartup();
  }
}
