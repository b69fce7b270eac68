import type { AuditEvent, AuditListener } from '../audit-event.js';
import { invalidArgType } from './type-error.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event without its `time`, which `emit` stamps. */
export type AuditInput = DistributiveOmit<AuditEvent, 'time'>;

export type Emit = (event: AuditInput) => void;

/**
 * The emitter behind the `audit` option. The listener must never break or delay an OAuth
 * response: it is called inside try/catch, its promise is not awaited, and a rejection is
 * swallowed. Fields that are `undefined` are dropped so a serialised line stays short.
 */
export function createEmitter(listener: AuditListener | undefined, now: () => number): Emit {
  if (listener === undefined) return () => {};
  if (typeof listener !== 'function') throw invalidArgType('"audit" must be a function');
  return (input) => {
    const event: Record<string, unknown> = { time: new Date(now()).toISOString() };
    for (const [key, value] of Object.entries(input)) if (value !== undefined) event[key] = value;
    try {
      const result = listener(event as unknown as AuditEvent) as unknown;
      if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
        Promise.resolve(result).catch(() => {});
      }
    } catch {
      // The listener's failure is its own; the OAuth exchange goes on.
    }
  };
}
