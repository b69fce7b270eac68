/** `ConsumeOptions.match`: every named top-level field holds exactly that string. */
export function matches(record: object, match: Record<string, string> | undefined): boolean {
  if (match === undefined) return true;
  for (const key of Object.keys(match)) {
    if ((record as Record<string, unknown>)[key] !== match[key]) return false;
  }
  return true;
}
