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

function assertNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') {
    throw new CodedTypeError(
      `"${name}" must be a number, received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
}

/** A whole number from 1 up to `Number.MAX_SAFE_INTEGER`. */
export function assertPositiveInteger(value: unknown, name: string): asserts value is number {
  assertNumber(value, name);
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new CodedTypeError(
      `"${name}" must be a positive integer, received ${value}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
}

/** A finite number above zero. */
export function assertPositiveNumber(value: unknown, name: string): asserts value is number {
  assertNumber(value, name);
  if (!Number.isFinite(value) || value <= 0) {
    throw new CodedTypeError(
      `"${name}" must be a finite number above 0, received ${value}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
}

export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new CodedTypeError(
      `"${name}" must be a string, received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
}
