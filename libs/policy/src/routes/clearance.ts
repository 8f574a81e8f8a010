/**
 * Which restricted values a sink may receive (ARCHITECTURE.md, "Policy model": restricted
 * values are "never sent to sinks that are not cleared for it").
 *
 * Two parties must agree: the policy's route (`restricted_fields: true`) and the sink itself
 * (the `sinks.cleared_for_restricted` flag an operator sets). The route alone is not enough —
 * a tenant's policy author could otherwise send restricted values to any sink by editing a
 * route — so a share keeps its restricted values only when BOTH allow it. The `store` sink is
 * cleared by nature: it keeps restricted values encrypted per tenant (libs/store keyring).
 *
 * The worker (apps/worker pipeline) and the admin dry-run apply the same rule through
 * `applySinkClearance`, so a dry-run shows exactly what the sink would receive.
 */
import type { LogsData, MetricsData, TracesData } from '@custodian/otlp';
import { stripRestricted } from '../redaction/restricted';

/** What the rule needs to know about a sink. */
export interface SinkClearance {
  /** The sink kind (`store` is cleared by nature). */
  kind: string;
  /** The sink row's `cleared_for_restricted` flag. */
  clearedForRestricted: boolean;
}

/** True when the sink may receive restricted values (a route must still allow it). */
export function sinkClearedForRestricted(sink: SinkClearance): boolean {
  return sink.kind === 'store' || sink.clearedForRestricted;
}

/** A routed share after the sink's clearance is applied. */
export interface ClearedShare<T> {
  /** True when `data` still holds restricted values (route AND sink allow it). */
  restrictedFields: boolean;
  data: T;
  /** True when restricted values were replaced because the sink is not cleared. */
  withheld: boolean;
}

/**
 * The share as `sink` may receive it: unchanged when the route did not allow restricted values
 * (already stripped by the policy) or the sink is cleared; otherwise a copy with every
 * restricted value replaced by `[RESTRICTED]` (copy-on-write: `data` is never modified).
 */
export function applySinkClearance<T extends TracesData | LogsData | MetricsData>(
  share: { restrictedFields: boolean; data: T },
  sink: SinkClearance,
): ClearedShare<T> {
  if (!share.restrictedFields || sinkClearedForRestricted(sink))
    return { restrictedFields: share.restrictedFields, data: share.data, withheld: false };
  const data = stripRestricted(share.data);
  return { restrictedFields: false, data, withheld: data !== share.data };
}
