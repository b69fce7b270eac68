const warned = new Set<string>();

/** One `console.warn` per process and topic: a warning repeated per request gets ignored. */
export function warnOnce(topic: string, message: string): void {
  if (warned.has(topic)) return;
  warned.add(topic);
  console.warn(`[@portcullis/token-store] ${message}`);
}
