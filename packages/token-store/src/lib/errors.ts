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
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') {
    throw new CodedTypeError(
      `"${name}" must be a string, received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
}

export function assertNonEmptyString(value: unknown, name: string): asserts value is string {
  assertString(value, name);
  if (value.length === 0) {
    throw new CodedTypeError(`"${name}" must not be empty`, 'ERR_INVALID_ARG_VALUE');
  }
}

export function assertStringArray(value: unknown, name: string): asserts value is string[] {
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw new CodedTypeError(
      `"${name}" must be an array of strings, received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
}

export function assertObject(
  value: unknown,
  name: string,
): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CodedTypeError(
      `"${name}" must be an object, received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
}

/** A whole number of seconds > 0, or `undefined` to take the default. */
export function assertOptionalSeconds(value: unknown, name: string, allowZero = false): void {
  if (value === undefined) return;
  if (typeof value !== 'number') {
    throw new CodedTypeError(
      `"${name}" must be a number of seconds, received ${describe(value)}`,
      'ERR_INVALID_ARG_TYPE',
    );
  }
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new CodedTypeError(
      `"${name}" must be a positive number of seconds, received ${value}`,
      'ERR_INVALID_ARG_VALUE',
    );
  }
}
