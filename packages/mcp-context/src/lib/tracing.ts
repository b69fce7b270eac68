import { invalidType } from './errors.js';

/**
 * OpenTelemetry without depending on it: `@opentelemetry/api` is an optional peer. These are
 * the few members of its `Tracer` and `Span` this package calls, so the api's own types fit
 * and nobody needs the api installed to compile against ours.
 */
export type SpanAttributeValue = string | number | boolean | string[];

/** The part of an OpenTelemetry `Span` used here; `@opentelemetry/api`'s `Span` fits. */
export interface SpanLike {
  /** `false` for the api's no-op span (no provider registered): nothing more is done with it. */
  isRecording(): boolean;
  setAttribute(key: string, value: SpanAttributeValue): unknown;
  /** `code` 2 is `SpanStatusCode.ERROR`. */
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
}

/** The part of an OpenTelemetry `Tracer` used here; `@opentelemetry/api`'s `Tracer` fits. */
export interface TracerLike {
  startSpan(name: string): SpanLike;
}

/** The part of an OpenTelemetry `TracerProvider` used here. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): TracerLike;
}

export interface TracingOptions {
  /**
   * The OpenTelemetry tracer for this package's spans, or `false` for none. Default: the
   * global tracer of `@opentelemetry/api` when that package is installed (a no-op until an SDK
   * registers a provider), else none.
   */
  tracer?: TracerLike | false;
  /** Where to get the tracer instead of the global provider (ignored when `tracer` is given). */
  tracerProvider?: TracerProviderLike;
}

/** `SpanStatusCode.ERROR` of `@opentelemetry/api`. */
export const SPAN_STATUS_ERROR = 2;

// A variable specifier, marked for bundlers to leave alone: when the optional peer is not
// installed a bundle still builds and the import simply fails at run time (caught).
const API = '@opentelemetry/api';

/**
 * The tracer named `name` from the options, else from the global api when it is installed,
 * else `undefined`. Throws a TypeError for an option of the wrong shape.
 */
export async function resolveTracer(
  name: string,
  options: TracingOptions,
): Promise<TracerLike | undefined> {
  const direct = explicitTracer(name, options);
  if (direct !== null) return direct;
  try {
    const api = (await import(/* webpackIgnore: true */ /* @vite-ignore */ API)) as OtelApi;
    const provider = api.trace?.getTracerProvider?.() ?? api.trace;
    const tracer = provider?.getTracer(name);
    const ProxyProvider = api.ProxyTracerProvider;
    if (
      tracer === undefined ||
      typeof ProxyProvider !== 'function' ||
      !(provider instanceof ProxyProvider)
    )
      return tracer;
    // No provider registered yet: the api's tracer is a proxy that, on every request, goes
    // through its no-op tracer, the active context and a new no-op span (~1,200 instructions)
    // to give a span that records nothing. Ask the proxy whether it has a provider instead
    // (its delegate, else the api's one no-op provider) and skip the span until it has one.
    const noop = new ProxyProvider().getDelegate();
    return {
      startSpan: (spanName) =>
        provider.getDelegate() === noop ? NOT_RECORDING : tracer.startSpan(spanName),
    };
  } catch {
    return undefined;
  }
}

/** The members of `@opentelemetry/api` read here. */
interface OtelApi {
  trace?: TracerProviderLike & { getTracerProvider?(): TracerProviderLike };
  ProxyTracerProvider?: new () => TracerProviderLike & { getDelegate(): unknown };
}

/** What `startSpan` of a tracer without a provider gives: a span that records nothing. */
const NOT_RECORDING: SpanLike = {
  isRecording: () => false,
  setAttribute: () => NOT_RECORDING,
  setStatus: () => NOT_RECORDING,
  end: () => {},
};

/** The tracer the options name (`undefined` for none), or `null` when they leave it to the api. */
export function explicitTracer(
  name: string,
  options: TracingOptions,
): TracerLike | undefined | null {
  const { tracer, tracerProvider } = options;
  if (tracer === false) return undefined;
  if (tracer !== undefined) {
    if (typeof tracer?.startSpan !== 'function') {
      throw invalidType('tracer', 'an OpenTelemetry Tracer or false', tracer);
    }
    return tracer;
  }
  if (tracerProvider !== undefined) {
    if (typeof tracerProvider?.getTracer !== 'function') {
      throw invalidType('tracerProvider', 'an OpenTelemetry TracerProvider', tracerProvider);
    }
    return tracerProvider.getTracer(name);
  }
  return null;
}

/**
 * Ends a span with the HTTP status and, for an error response, the OAuth error code as the
 * `oauth.error` attribute and the span's ERROR status (never a description or stack: those
 * may quote input).
 */
export function endSpan(span: SpanLike, status: number, error: string | undefined): void {
  span.setAttribute('http.response.status_code', status);
  if (error !== undefined) {
    span.setAttribute('oauth.error', error);
    span.setStatus({ code: SPAN_STATUS_ERROR, message: error });
  }
  span.end();
}

/**
 * A span named `name` when the tracer records one, else `undefined` (no tracer, or the api's
 * no-op tracer before a provider is registered), so that untraced requests skip all span work.
 */
export function startSpan(tracer: TracerLike | undefined, name: string): SpanLike | undefined {
  if (tracer === undefined) return undefined;
  const span = tracer.startSpan(name);
  if (span.isRecording()) return span;
  span.end();
  return undefined;
}
