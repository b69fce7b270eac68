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
