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

export function invalidValue(name: string, message: string): CodedTypeError {
  return new CodedTypeError(`"${name}" ${message}`, 'ERR_INVALID_ARG_VALUE');
}

export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw invalidType(name, 'a string', value);
}
