/**
 * Trace search, trace view and the audited reveal (issue #6 item 3, "traces" and
 * "revealField"; ARCHITECTURE.md, "Security model").
 *
 * Every read is scoped by the tenant the guard authorized: the store filters every statement
 * on it, so another tenant's trace id is simply not found.
 *
 * Restricted values are stored only encrypted (libs/store keyring.ts) and masked in every
 * read, for every role: the only way to see one is `reveal`, which
 *  1. checks the input, then the caller's reveal budget in Redis (fixed window per actor,
 *     REVEAL_RATE_LIMIT; fail closed when Redis cannot answer: an unmetered reveal is what the
 *     limit exists to prevent);
 *  2. looks the span and key up WITHOUT decrypting anything;
 *  3. writes exactly one audit event (`trace.reveal`: target span, fields [key], reason,
 *     ip, user agent, request id) — outcome `failure` when the span or key does not exist,
 *     `denied` when over the limit, else `success` — and only after that write committed
 *  4. decrypts and returns the value. A failed audit write throws before step 4: no value.
 */
import { Injectable } from '@nestjs/common';
import {
  InvalidCursorError,
  NoTenantKeyError,
  type JsonMap,
  type JsonValue,
  type StoredSpan,
} from '@custodian/store';
import { RESTRICTED_PLACEHOLDER } from '@custodian/policy';
import { RedisConnection } from '@custodian/redis';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { subjectFor } from '../auth/abilities';
import { adminError, badInput, notFound } from '../auth/errors';
import { AdminStore } from './admin-store';
import {
  checkDuration,
  checkPageSize,
  checkRange,
  checkReason,
  checkRestrictedKey,
  checkSpanId,
  checkText,
  checkTraceId,
} from './trace-input';
import type {
  AttributeType,
  RevealedFieldType,
  SpanType,
  TraceConnection,
  TraceFilter,
  TraceType,
} from './traces.types';

/** Reveals per actor per window (all tenants together): enough for an investigation, not a dump. */
export const REVEAL_RATE_LIMIT = { reveals: 30, windowSeconds: 600 } as const;

const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

/** The narrow parts of the store and Redis the service uses (unit tests pass fakes). */
export interface TraceReader {
  search: AdminStore['traces']['search'];
  getTrace: AdminStore['traces']['getTrace'];
  revealValue: AdminStore['traces']['revealValue'];
}
export interface RevealCounter {
  /** The number of reveals in the current window including this one. */
  hit(actorId: string): Promise<number>;
}

export class RedisRevealCounter implements RevealCounter {
  constructor(private readonly redis: RedisConnection) {}

  async hit(actorId: string): Promise<number> {
    const key = `custodian:admin:reveal:${actorId}`;
    const [[incrErr, n]] = (await this.redis.client
      .multi()
      .incr(key)
      .expire(key, REVEAL_RATE_LIMIT.windowSeconds, 'NX')
      .exec()) as [[Error | null, number], [Error | null, number]];
    if (incrErr) throw incrErr;
    return n;
  }
}

function typeOf(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  switch (typeof v) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return Number.isInteger(v) ? 'int' : 'double';
    default:
      return 'map';
  }
}

function attributes(
  map: JsonMap,
  where: string | undefined,
  restricted: Set<string>,
): AttributeType[] {
  return Object.entries(map).map(([key, value]) => {
    const rk = where === undefined ? key : `${where}:${key}`;
    const isRestricted = restricted.has(rk) && value === RESTRICTED_PLACEHOLDER;
    return {
      key,
      value: JSON.stringify(value),
      type: isRestricted ? 'string' : typeOf(value),
      restricted: isRestricted,
    };
  });
}

const nsToDate = (ns: string): Date => new Date(Number(BigInt(ns) / 1_000_000n));

/** A stored span as the API shows it (restricted values already masked by the store). */
export function spanView(s: StoredSpan): SpanType {
  const restricted = new Set(s.restrictedKeys);
  const a = s.attributes;
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    name: s.name,
    kind: s.kind,
    kindName: SPAN_KINDS[s.kind] ?? 'UNSPECIFIED',
    statusCode: s.statusCode,
    statusMessage: s.statusMessage,
    error: s.error,
    service: s.service,
    startTime: nsToDate(s.startUnixNano),
    endTime: nsToDate(s.endUnixNano),
    startUnixNano: s.startUnixNano,
    endUnixNano: s.endUnixNano,
    durationMs: Number(BigInt(s.durationNs) / 1000n) / 1000,
    runId: s.runId,
    toolName: s.toolName,
    model: s.model,
    attributes: attributes(a.span, undefined, restricted),
    resource: attributes(a.resource, 'resource', restricted),
    scope: {
      name: a.scope.name,
      version: a.scope.version,
      attributes: attributes(a.scope.attributes, 'scope', restricted),
    },
    events: a.events.map((e, i) => ({
      name: e.name,
      timeUnixNano: e.timeUnixNano,
      attributes: attributes(e.attributes, `events[${i}]`, restricted),
    })),
    links: a.links.map((l, i) => ({
      traceId: l.traceId,
      spanId: l.spanId,
      traceState: l.traceState,
      attributes: attributes(l.attributes, `links[${i}]`, restricted),
    })),
    attributesJson: JSON.stringify(a),
    restrictedKeys: [...s.restrictedKeys],
    // Every restricted value is masked for every role until revealed; say which.
    masked: [...s.restrictedKeys],
    traceState: a.traceState,
    retentionClass: s.retentionClass,
    retainUntil: s.retainUntil,
  };
}

@Injectable()
export class TracesService {
  private readonly store: TraceReader;
  private readonly counter: RevealCounter;

  constructor(
    store: AdminStore,
    redis: RedisConnection,
    private readonly audit: AdminAudit,
  ) {
    this.store = store.traces;
    this.counter = new RedisRevealCounter(redis);
  }

  async search(
    tenantId: string,
    filter: TraceFilter | null | undefined,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<TraceConnection> {
    const f = filter ?? {};
    const problems: string[] = [];
    const range = checkRange(f.from, f.to, 'filter', problems);
    const limit = checkPageSize(first, 'first', problems);
    const q = {
      runId: checkText(f.runId, 'filter.runId', problems),
      service: checkText(f.service, 'filter.service', problems),
      spanName: checkText(f.spanName, 'filter.spanName', problems),
      toolName: checkText(f.toolName, 'filter.toolName', problems),
      minDurationMs: checkDuration(f.minDurationMs, 'filter.minDurationMs', problems),
      maxDurationMs: checkDuration(f.maxDurationMs, 'filter.maxDurationMs', problems),
    };
    if (
      q.minDurationMs !== undefined &&
      q.maxDurationMs !== undefined &&
      q.minDurationMs > q.maxDurationMs
    )
      problems.push('filter.maxDurationMs: must not be less than filter.minDurationMs');
    if (after !== null && after !== undefined && (after.length === 0 || after.length > 200))
      problems.push('after: not a cursor this query returned');
    if (problems.length) throw badInput(`invalid trace search: ${problems.join('; ')}`, problems);
    try {
      const page = await this.store.search(tenantId, {
        ...q,
        ...(f.error === null || f.error === undefined ? {} : { error: f.error }),
        from: range.from,
        to: range.to,
        limit,
        ...(after ? { cursor: after } : {}),
      });
      return {
        items: page.traces,
        nextCursor: page.nextCursor ?? null,
        from: range.from,
        to: range.to,
      };
    } catch (err) {
      if (err instanceof InvalidCursorError)
        throw badInput('invalid trace search: after: not a cursor this query returned', [
          'after: not a cursor this query returned',
        ]);
      throw err;
    }
  }

  async get(actor: Actor, tenantId: string, traceId: string): Promise<TraceType> {
    const problems: string[] = [];
    const id = checkTraceId(traceId, 'traceId', problems);
    if (problems.length) throw badInput(problems[0], problems);
    const spans = await this.store.getTrace(tenantId, id);
    if (spans.length === 0) throw notFound(`trace ${id} not found in this tenant`);
    return {
      traceId: id,
      spans: spans.map(spanView),
      revealable: actor.ability.can('reveal', subjectFor('Trace', tenantId)),
    };
  }

  async reveal(
    actor: Actor,
    tenantId: string,
    input: { traceId: string; spanId: string; key: string; reason: string },
  ): Promise<RevealedFieldType> {
    const problems: string[] = [];
    const traceId = checkTraceId(input.traceId, 'traceId', problems);
    const spanId = checkSpanId(input.spanId, 'spanId', problems);
    const key = checkRestrictedKey(input.key, 'key', problems);
    const reason = checkReason(input.reason, 'reason', problems);
    if (problems.length) throw badInput(`invalid reveal: ${problems.join('; ')}`, problems);

    const event = {
      action: 'trace.reveal' as const,
      tenantId,
      targetType: 'Span',
      targetId: `${traceId}/${spanId}`,
      fields: [key],
      reason,
      details: { traceId, spanId },
    };

    let count: number;
    try {
      count = await this.counter.hit(actor.id);
    } catch {
      throw adminError(
        'TOO_MANY_REQUESTS',
        'reveals are metered and the meter (Redis) is unreachable; try again in a minute',
      );
    }
    if (count > REVEAL_RATE_LIMIT.reveals) {
      await this.audit.record(actor, {
        ...event,
        outcome: 'denied',
        details: { ...event.details, refusal: 'rate_limited' },
      });
      throw adminError(
        'TOO_MANY_REQUESTS',
        `at most ${REVEAL_RATE_LIMIT.reveals} reveals per ${REVEAL_RATE_LIMIT.windowSeconds / 60} minutes; wait for the window to pass`,
        { limit: REVEAL_RATE_LIMIT.reveals, windowSeconds: REVEAL_RATE_LIMIT.windowSeconds },
      );
    }

    // Existence from the masked copy: nothing is decrypted before the audit event is written.
    const span = (await this.store.getTrace(tenantId, traceId)).find((s) => s.spanId === spanId);
    if (!span || !span.restrictedKeys.includes(key)) {
      const what = !span
        ? `span ${spanId} of trace ${traceId} not found in this tenant`
        : `span ${spanId} has no restricted value "${key}" (restricted keys: ${span.restrictedKeys.join(', ') || 'none'})`;
      await this.audit.record(actor, {
        ...event,
        outcome: 'failure',
        details: { ...event.details, error: 'not_found' },
      });
      throw notFound(what);
    }

    await this.audit.record(actor, event);

    let found: Awaited<ReturnType<TraceReader['revealValue']>>;
    try {
      found = await this.store.revealValue(tenantId, traceId, spanId, key);
    } catch (err) {
      if (err instanceof NoTenantKeyError)
        throw notFound('the restricted values of this tenant were erased (its data key is gone)');
      throw err;
    }
    if (!found.found)
      throw notFound(`span ${spanId} has no restricted value "${key}" any more (expired)`);
    const valueJson = JSON.stringify(found.value);
    return {
      traceId,
      spanId,
      key,
      valueJson,
      value: typeof found.value === 'string' ? found.value : valueJson,
      requestId: actor.meta.requestId,
    };
  }
}
