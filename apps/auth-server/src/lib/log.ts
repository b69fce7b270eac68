/**
 * One log line per event, as JSON: whatever a caller sent (a callbackUrl with a newline, a
 * stack trace from a malformed request) is escaped inside a string, so no input can start a
 * line of its own or pass for the server's own output.
 *
 * @example
 * log('warn', 'next-auth refused a request', { code: 'INVALID_CALLBACK_URL_ERROR' });
 * // {"time":"…","level":"warn","msg":"next-auth refused a request","code":"INVALID_CALLBACK_URL_ERROR"}
 */
export function log(
  level: 'info' | 'warn' | 'error',
  msg: string,
  fields: Record<string, unknown> = {},
): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  // Straight to the stream, as console.log/warn/error would write it: Next.js wraps the console
  // methods (dimming, its exit hooks), which cost each grant's audit line ~0.1 ms of CPU under
  // the e2e token bench.
  const stream = level === 'info' ? globalThis.process?.stdout : globalThis.process?.stderr;
  if (typeof stream?.write === 'function') stream.write(`${line}\n`);
  else if (level === 'error') console.error(line);
  else if (level === 'warn') console.warn(line);
  else console.log(line);
}

/** An error's name and message, clipped: never its stack, which may quote the input. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  if (typeof error === 'object' && error !== null && 'message' in error) {
    return String(error.message).slice(0, 300);
  }
  return String(error).slice(0, 300);
}
