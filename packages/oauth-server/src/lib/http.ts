import { InvalidClientMetadataError, InvalidRequestError, OAuthError } from '../errors.js';
import { attachedBody } from './node-bridge.js';

/** 413: the body is larger than the endpoint accepts. Still an RFC 6749 `invalid_request`. */
export class PayloadTooLargeError extends InvalidRequestError {
  override status = 413;
}

/** 405 for a method the endpoint does not serve. */
export class MethodNotAllowedError extends InvalidRequestError {
  override status = 405;
  readonly allow: string;

  constructor(method: string, allow: string) {
    super(`method ${method.slice(0, 16)} is not allowed here, use ${allow}`);
    this.allow = allow;
  }
}

/** 415: the body is not in the media type the endpoint reads. */
export class UnsupportedMediaTypeError extends InvalidRequestError {
  override status = 415;
}

export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

/**
 * An endpoint's JSON answer, made into a `Response` by `endpoint()` (or written to the socket
 * as it is by `toNodeHandler`, see node-bridge.ts). Header names are written as here, once each.
 */
export interface JsonReply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const JSON_ONLY: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'application/json',
});

/** The reply headers per `headers` record given (a constant such as NO_STORE, most often). */
const replyHeaders = new WeakMap<Record<string, string>, Readonly<Record<string, string>>>();

/** A JSON answer. Its `headers` record may be shared between answers: it is frozen. */
export function jsonReply(
  body: unknown,
  status = 200,
  headers?: Record<string, string>,
): JsonReply {
  let all = headers === undefined ? JSON_ONLY : replyHeaders.get(headers);
  if (all === undefined) {
    all = Object.freeze({ 'Content-Type': 'application/json', ...headers });
    replyHeaders.set(headers!, all);
  }
  return { status, headers: all, body: JSON.stringify(body) };
}

/**
 * Reads a request body as text, refusing more than `maxBytes`: a declared Content-Length is
 * checked first, then the stream is read and cut off, so a lying or absent length cannot make
 * the server buffer more.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const attached = attachedBodyText(request, maxBytes);
  if (attached !== undefined) return attached;
  if (!request.body) return '';
  const bytes = await readLimited(request.body, maxBytes, () => {
    throw new PayloadTooLargeError(`request body exceeds ${maxBytes} bytes`);
  });
  return utf8.decode(bytes);
}

/**
 * The checks of `readBodyText` before any reading (a declared Content-Length), then the body
 * `toNodeHandler` read as text, or `undefined` when the body is still to be read (a standard
 * request).
 */
function attachedBodyText(request: Request, maxBytes: number): string | undefined {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    const n = Number(declared);
    if (!/^\d+$/.test(declared.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidRequestError('Content-Length is malformed');
    }
    if (n > maxBytes) throw new PayloadTooLargeError(`request body exceeds ${maxBytes} bytes`);
  }
  const attached = attachedBody(request);
  if (attached === undefined) return undefined;
  if (attached.byteLength > maxBytes) {
    throw new PayloadTooLargeError(`request body exceeds ${maxBytes} bytes`);
  }
  return utf8.decode(attached);
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Reads a stream into one buffer; calls `onOverflow` (which throws) past `maxBytes`, cancelling the stream. */
export async function readLimited(
  stream: ReadableStream<Uint8Array>,
  maxBytes: number,
  onOverflow: () => never,
): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => {});
        onOverflow();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof OAuthError) throw error;
    throw new InvalidRequestError('the request body could not be read', { cause: error });
  } finally {
    reader.releaseLock();
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function mediaType(request: Request): string {
  const type = request.headers.get('content-type') ?? '';
  const end = type.indexOf(';');
  return (end === -1 ? type : type.slice(0, end)).trim().toLowerCase();
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * The parameters of an `application/x-www-form-urlencoded` POST body (RFC 6749 §3.2) as a
 * record; a parameter sent twice is refused (§3.1), naming it.
 */
export async function readForm(
  request: Request,
  maxBytes: number,
): Promise<Record<string, string>> {
  return readFormNow(request, maxBytes) ?? formToRecord(await readBodyText(request, maxBytes));
}

/**
 * `readForm` without waiting, for a body `toNodeHandler` has read already (same checks, same
 * errors, thrown); `undefined` for a body still to be read.
 */
export function readFormNow(
  request: Request,
  maxBytes: number,
): Record<string, string> | undefined {
  // The exact header value first: what clients send.
  const type = request.headers.get('content-type');
  if (type !== FORM && mediaType(request) !== FORM) {
    throw new UnsupportedMediaTypeError('Content-Type must be application/x-www-form-urlencoded');
  }
  const text = attachedBodyText(request, maxBytes);
  return text === undefined ? undefined : formToRecord(text);
}

/**
 * An `application/x-www-form-urlencoded` string as a record, exactly as
 * `paramsToRecord(new URLSearchParams(body))` reads it: a value with a `%` sequence that
 * `decodeURIComponent` refuses (malformed, or not UTF-8) sends the whole body that way.
 */
export function formToRecord(body: string): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  // As the URLSearchParams constructor: one leading "?" is dropped.
  for (let start = body.startsWith('?') ? 1 : 0; start < body.length; ) {
    let end = body.indexOf('&', start);
    if (end === -1) end = body.length;
    if (end > start) {
      const eq = body.indexOf('=', start);
      const name = formDecode(body.slice(start, eq === -1 || eq > end ? end : eq));
      const value = eq === -1 || eq > end ? '' : formDecode(body.slice(eq + 1, end));
      if (name === undefined || value === undefined) {
        return paramsToRecord(new URLSearchParams(body));
      }
      if (Object.hasOwn(out, name)) {
        throw new InvalidRequestError(`parameter ${safeName(name)} must not be repeated`);
      }
      out[name] = value;
    }
    start = end + 1;
  }
  return out;
}

/** One name or value of a form: `+` is a space, `%XX` a UTF-8 byte; `undefined` if malformed. */
function formDecode(text: string): string | undefined {
  const spaced = text.includes('+') ? text.replaceAll('+', ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}

/** A JSON object body (RFC 7591 §3.1); anything else is `invalid_client_metadata`. */
export async function readJsonObject(
  request: Request,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  if (mediaType(request) !== 'application/json') {
    throw new UnsupportedMediaTypeError('Content-Type must be application/json');
  }
  const text = await readBodyText(request, maxBytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new InvalidClientMetadataError('the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidClientMetadataError('the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** URLSearchParams → record, refusing repeated parameters (RFC 6749 §3.1) and empty names. */
export function paramsToRecord(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [name, value] of params) {
    if (Object.hasOwn(out, name)) {
      throw new InvalidRequestError(`parameter ${safeName(name)} must not be repeated`);
    }
    out[name] = value;
  }
  return out;
}

/** A parameter name as it may appear in an error description. */
export function safeName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.-]/g, '');
  return clean.length > 0 && clean.length <= 64 ? clean : '(unnamed)';
}

export function assertMethod(request: Request, allowed: readonly string[]): void {
  if (!allowed.includes(request.method)) {
    throw new MethodNotAllowedError(request.method, allowed.join(', '));
  }
}
