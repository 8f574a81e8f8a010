/**
 * What the data plane (SinkDelivery, in the worker) and the control plane (DeadLetterControl,
 * in the admin) must agree on about a sink's retry lane: the BullMQ queue's name, the job's
 * shape and options, and the Redis set that tells every worker which lanes exist. Kept in one
 * place so a redrive queued by the admin is exactly the job a worker's lane would have queued.
 */
import type { ExportSignal } from '@custodian/exporters';
import type { DeliveryConfig } from './delivery-config';
import type { DeadLetter } from './dead-letters';

export interface RetryJobData {
  tenantId: string;
  sinkId: string;
  signal: ExportSignal;
  items: number;
  /** The Export*ServiceRequest, base64 (BullMQ job data is JSON). */
  payload: string;
  firstFailedAt: number;
  /** Exports made before this job was queued (1 after a failed first attempt, 0 on redrive). */
  priorAttempts: number;
  lastError: string;
}

/** Job states that count as "still in the retry queue". */
export const QUEUED_STATES = ['wait', 'delayed', 'active', 'prioritized'] as const;
/** The custom backoff type; the worker's BullMQ settings implement it. */
export const BACKOFF_TYPE = 'custodian';

/** The BullMQ queue name of one sink's retry lane (no ":" — BullMQ forbids it). */
export function laneName(keyPrefix: string, tenantId: string, sinkId: string): string {
  return `${keyPrefix}.${encodeURIComponent(tenantId)}.${encodeURIComponent(sinkId)}`;
}

/** The Redis set of every lane that ever queued a job: `["tenantId","sinkId"]` members. */
export function sinksKey(keyPrefix: string): string {
  return `${keyPrefix}:sinks`;
}

export function sinkMember(tenantId: string, sinkId: string): string {
  return JSON.stringify([tenantId, sinkId]);
}

export function parseSinkMember(member: string): [string, string] | undefined {
  try {
    const v = JSON.parse(member) as unknown;
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string'))
      return [v[0] as string, v[1] as string];
  } catch {
    // A foreign member: ignored.
  }
  return undefined;
}

/** A dead letter as a fresh retry job: a full attempt budget, no delay. */
export function redriveJob(
  tenantId: string,
  sinkId: string,
  e: DeadLetter,
  config: Pick<DeliveryConfig, 'maxAttempts'>,
) {
  const data: RetryJobData = {
    tenantId,
    sinkId,
    signal: e.signal,
    items: e.items,
    payload: e.payload.toString('base64'),
    firstFailedAt: e.firstFailedAt,
    priorAttempts: 0,
    lastError: e.error,
  };
  const opts = {
    attempts: config.maxAttempts,
    backoff: { type: BACKOFF_TYPE },
    removeOnComplete: true,
    removeOnFail: true,
  };
  return { data, opts };
}

export function requireIds(tenantId: string, sinkId: string): void {
  if (!tenantId || !sinkId) throw new Error('tenantId and sinkId are required');
}
