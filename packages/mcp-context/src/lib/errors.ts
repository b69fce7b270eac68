/** The codes a caller's mistake carries, as Node.js uses them. */
export type ArgumentErrorCode = 'ERR_INVALID_ARG_TYPE' | 'ERR_INVALID_ARG_VALUE';

/** A `TypeError` with a stable `code`, thrown for a caller's mistake (wrong type or value). */
export class CodedTypeError extends TypeError {
  readonly code: ArgumentErrorCode;

  constructor(message: string, code: ArgumentErrorCode, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TypeError';
    this.code = code;
  }
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}

export function invalidType(name: string, expected: string, value: unknown): CodedTypeError {
  return new CodedTypeError(
    `"${name}" must be ${expected}, received ${describe(value)}`,
    'ERR_INVALID_ARG_TYPE',
  );
}

export function invalidValue(name: string, why: string): CodedTypeError {
  return new CodedTypeError(`"${name}" ${why}`, 'ERR_INVALID_ARG_VALUE');
}

export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidType(name, 'a string', value);
}

export function assertNonEmptyString(value: unknown, name: string): asserts value is string {
  assertString(value, name);
  if (value.length === 0) throw invalidValue(name, 'must not be empty');
}

export function assertObject<T>(
  value: T,
  name: string,
): asserts value is T extends object ? T : T & Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidType(name, 'an object', value);
  }
}

export function assertStringArray(value: unknown, name: string): asserts value is string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalidType(name, 'an array of strings', value);
  }
}

/** An absolute http(s) URL without a fragment, as RFC 8707 §2 and RFC 9728 §1.2 require. */
export function assertResourceUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw invalidType(name, 'a URL string', value);
  }
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalidValue(name, `must be an absolute URL, received "${String(value)}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalidValue(name, 'must be an http(s) URL');
  }
  if (url.hash !== '' || String(value).includes('#')) {
    throw invalidValue(name, 'must not contain a fragment (RFC 8707 §2)');
  }
  return url;
}

export function assertPositiveInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw invalidType(name, 'a number', value);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalidValue(name, `must be a positive integer, received ${value}`);
  }
}
