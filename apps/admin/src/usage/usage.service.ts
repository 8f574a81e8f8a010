/**
 * Usage and span metrics of one tenant (issue #6 item 3, "usage per tenant per minute
 * (received, rejected by reason, sampled out, exported) and span metrics (RED by service,
 * tool, model)"), read from the rollups the gateway and worker write (libs/store rollups.ts).
 * The tenant is the one the guard authorized; the repository filters every query on it.
 */
import { Injectable } from '@nestjs/common';
import { SPAN_DURATION_BOUNDS_MS } from '@custodian/store';
import { badInput } from '../auth/errors';
import { AdminStore } from '../traces/admin-store';
import { checkRange, checkText } from '../traces/trace-input';
import {
  addUsage,
  emptyBucket,
  groupSpanMetrics,
  rollUpUsage,
  type SpanMetricDimension,
  type UsageBucket,
} from './usage-math';
import type {
  KeyCount,
  SpanMetricsGroupBy,
  SpanMetricsReportType,
  UsageBucketType,
  UsageReportType,
} from './usage.types';

export const MAX_USAGE_RANGE_DAYS = 31;
export const MAX_STEP_MINUTES = 1440;
const SIGNALS = ['traces', 'logs', 'metrics'];

function counts(m: Record<string, number>): KeyCount[] {
  return Object.entries(m)
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}
const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

function bucketView(b: UsageBucket): UsageBucketType {
  return {
    start: b.start,
    received: b.received,
    accepted: b.accepted,
    rejectedTotal: sum(b.rejected),
    rejected: counts(b.rejected),
    sampledOutTotal: sum(b.sampledOut),
    sampledOut: counts(b.sampledOut),
    droppedTotal: sum(b.dropped),
    dropped: counts(b.dropped),
    exportedTotal: sum(b.exported),
    exported: counts(b.exported),
  };
}

@Injectable()
export class UsageService {
  constructor(private readonly store: AdminStore) {}

  async usage(
    tenantId: string,
    args: { from?: Date | null; to?: Date | null; step?: number | null; signal?: string | null },
  ): Promise<UsageReportType> {
    const problems: string[] = [];
    const range = checkRange(args.from, args.to, '', problems, Date.now(), {
      maxDays: MAX_USAGE_RANGE_DAYS,
    });
    const step = args.step ?? 1;
    if (!Number.isInteger(step) || step < 1 || step > MAX_STEP_MINUTES)
      problems.push(`step: expected whole minutes 1..${MAX_STEP_MINUTES}, got ${step}`);
    const signal = args.signal ?? undefined;
    if (signal !== undefined && !SIGNALS.includes(signal))
      problems.push(`signal: expected one of ${SIGNALS.join(', ')}, got "${signal}"`);
    if (problems.length) throw badInput(`invalid usage query: ${problems.join('; ')}`, problems);

    const minutes = await this.store.rollups.usage(tenantId, range.from, range.to);
    const buckets = rollUpUsage(minutes, step, signal);
    const totals = emptyBucket(range.from);
    for (const b of buckets) addUsage(totals, b);
    return {
      from: range.from,
      to: range.to,
      stepMinutes: step,
      signal: signal ?? null,
      buckets: buckets.map(bucketView),
      totals: bucketView(totals),
    };
  }

  async spanMetrics(
    tenantId: string,
    args: {
      from?: Date | null;
      to?: Date | null;
      groupBy?: SpanMetricsGroupBy[] | null;
      service?: string | null;
      toolName?: string | null;
      model?: string | null;
    },
  ): Promise<SpanMetricsReportType> {
    const problems: string[] = [];
    const range = checkRange(args.from, args.to, '', problems, Date.now(), {
      maxDays: MAX_USAGE_RANGE_DAYS,
    });
    const service = checkText(args.service, 'service', problems);
    const toolName = checkText(args.toolName, 'toolName', problems);
    const model = checkText(args.model, 'model', problems);
    const groupBy = [...new Set(args.groupBy ?? ['service', 'spanName'])] as SpanMetricsGroupBy[];
    if (problems.length)
      throw badInput(`invalid span metrics query: ${problems.join('; ')}`, problems);
    const rows = await this.store.rollups.spanMetrics(tenantId, {
      from: range.from,
      to: range.to,
      ...(service !== undefined ? { service } : {}),
      ...(toolName !== undefined ? { toolName } : {}),
      ...(model !== undefined ? { model } : {}),
    });
    return {
      from: range.from,
      to: range.to,
      groupBy,
      durationBoundsMs: [...SPAN_DURATION_BOUNDS_MS],
      series: groupSpanMetrics(rows, groupBy as unknown as SpanMetricDimension[]),
    };
  }
}
