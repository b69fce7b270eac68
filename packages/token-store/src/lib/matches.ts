/** `ConsumeOptions.match`: every named top-level field holds exactly that string. */
export function matches(record: object, match: Record<string, string> | undefined): boolean {
  if (match === undefined) return true;
  for (const key of Object.keys(match)) {
    if ((record as Record<string, unknown>)[key] !== match[key]) return false;
  }
  return true;
}

/** The key a record is bound to (RFC 9449 §5, RFC 7800): its `extra.cnf.jkt`, when a string. */
export function boundJkt(record: { extra?: Record<string, unknown> }): string | undefined {
  const cnf = record.extra?.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as { jkt?: unknown }).jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/**
 * `ConsumeOptions.cnfJkt`: no check (`undefined`), or the record is unbound, or bound to exactly
 * this key (`null`: the request named no key).
 */
export function bindingAllows(
  record: { extra?: Record<string, unknown> },
  cnfJkt: string | null | undefined,
): boolean {
  if (cnfJkt === undefined) return true;
  const bound = boundJkt(record);
  return bound === undefined || bound === cnfJkt;
}
