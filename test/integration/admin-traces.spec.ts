/**
 * The trace API (issue #6 item 3 "traces" and "revealField"; "Proven by tests": role matrix for
 * field masking, a reveal writes exactly one audit event and returns the value, cross-tenant)
 * against the running admin API, the real PostgreSQL and Redis. The store is filled the way the
 * worker fills it: agent runs go through a real CompiledPolicy (the platform default: GenAI
 * content restricted) and the `store` delivery is written with TraceStore.write, under the
 * admin process's own CUSTODIAN_ENCRYPTION_KEY.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { loadConfig } from '@custodian/config';
import { DEFAULT_POLICY, RESTRICTED_PLACEHOLDER, compilePolicy } from '@custodian/policy';
import { StoreKeyring, TraceStore, createStorePool, ensurePartitions } from '@custodian/store';
import { REVEAL_RATE_LIMIT } from '../../apps/admin/src/traces/traces.service';
import { attr, batch, span } from '../../libs/policy/testdata/fixtures';
import { AdminHarness, ROLES, code, type Role } from './admin-harness';

const ENCRYPTION_KEY = loadConfig(process.env).encryptionKey;
const PROMPT = `summarize the contract for ${randomBytes(6).toString('hex')}`;
const REASON = 'support ticket 4711: user reports a wrong answer';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

let h: AdminHarness;
let pool: Pool;
let store: TraceStore;
const policy = compilePolicy(DEFAULT_POLICY, { hmacKey: randomBytes(32) });

interface Run {
  runId: string;
  traceId: string;
  rootSpanId: string;
  toolSpanId: string;
}

/** An agent run (root with run id and a prompt, a failing tool call) stored for `tenantId`. */
async function storeRun(tenantId: string, opts: { error?: boolean; startMs?: number } = {}) {
  const runId = `run-${randomUUID()}`;
  const traceId = randomBytes(16);
  const startMs = opts.startMs ?? Date.now() - 60_000;
  const root = span({
    traceId,
    name: 'agent.run',
    startMs,
    durationMs: 1200,
    attributes: [attr('run_id', runId), attr('gen_ai.prompt', PROMPT)],
  });
  const tool = span({
    traceId,
    name: 'execute_tool search',
    startMs: startMs + 100,
    durationMs: 300,
    status: opts.error ? 2 : undefined,
    attributes: [attr('gen_ai.tool.name', 'search'), attr('gen_ai.request.model', 'gpt-4o')],
  });
  tool.parentSpanId = root.spanId;
  const prepared = policy.prepareTraces(batch([root, tool], 'traces-agent'));
  const delivery = policy
    .deliverTraces(prepared.data.resourceSpans)
    .find((d) => d.sink === 'store');
  expect(delivery).toBeDefined();
  expect(await store.write(tenantId, delivery!.data)).toMatchObject({ inserted: 2 });
  return {
    runId,
    traceId: hex(traceId),
    rootSpanId: hex(root.spanId),
    toolSpanId: hex(tool.spanId),
  } satisfies Run;
}

const SEARCH = `query($t: ID!, $f: TraceFilter, $first: Int, $after: String) {
  traces(tenantId: $t, filter: $f, first: $first, after: $after) {
    items { traceId rootSpanName service spanCount error runId durationMs } nextCursor from to } }`;
const GET = `query($t: ID!, $id: String!) { trace(tenantId: $t, traceId: $id) { traceId revealable
  spans { spanId parentSpanId name kindName service toolName model error durationMs restrictedKeys masked
    attributes { key value type restricted } resource { key value } attributesJson } } }`;
const REVEAL = `mutation($t: ID!, $tr: String!, $s: String!, $k: String!, $r: String!) {
  revealField(tenantId: $t, traceId: $tr, spanId: $s, key: $k, reason: $r) { key value valueJson requestId } }`;

type SearchData = {
  traces: {
    items: { traceId: string; runId: string; spanCount: number; error: boolean }[];
    nextCursor: string | null;
  };
};
type SpanData = {
  spanId: string;
  name: string;
  restrictedKeys: string[];
  masked: string[];
  attributes: { key: string; value: string; type: string; restricted: boolean }[];
  attributesJson: string;
};
type TraceData = { trace: { traceId: string; revealable: boolean; spans: SpanData[] } };

const READERS: Role[] = ['owner', 'admin', 'security', 'operator', 'analyst'];
const REVEALERS: Role[] = ['owner', 'security'];

beforeAll(async () => {
  h = await AdminHarness.start();
  pool = createStorePool(process.env.DATABASE_URL!, 2);
  store = new TraceStore(pool, new StoreKeyring(pool, ENCRYPTION_KEY));
  await ensurePartitions(pool);
});
afterAll(async () => {
  await pool?.end();
  await h?.stop();
});

describe('role matrix', () => {
  it('every reading role finds the run and sees the prompt masked and named; viewers are refused and audited', async () => {
    const t = await h.createTenant('tr');
    const run = await storeRun(t.id, { error: true });
    for (const role of ROLES) {
      const user = await h.member(t.id, role);
      const found = await h.gql<SearchData>(
        SEARCH,
        { t: t.id, f: { runId: run.runId } },
        user.token,
      );
      const got = await h.gql<TraceData>(GET, { t: t.id, id: run.traceId }, user.token);
      if (!READERS.includes(role)) {
        expect({ role, search: code(found), get: code(got) }).toEqual({
          role,
          search: 'FORBIDDEN',
          get: 'FORBIDDEN',
        });
        const denials = await h.auditEvents({ actorId: user.id, action: 'authz.denied' });
        expect(denials).toHaveLength(2);
        expect(denials.every((d) => d.tenantId === t.id && d.outcome === 'denied')).toBe(true);
        continue;
      }
      expect({ role, errors: found.errors ?? got.errors }).toEqual({ role, errors: undefined });
      expect(found.data!.traces.items).toEqual([
        expect.objectContaining({
          traceId: run.traceId,
          runId: run.runId,
          spanCount: 2,
          error: true,
        }),
      ]);
      const trace = got.data!.trace;
      expect(trace.revealable).toBe(REVEALERS.includes(role));
      expect(trace.spans.map((s) => s.name)).toEqual(['agent.run', 'execute_tool search']);
      const root = trace.spans[0];
      expect(root.restrictedKeys).toEqual(['gen_ai.prompt']);
      expect(root.masked).toEqual(['gen_ai.prompt']);
      expect(root.attributes.find((a) => a.key === 'gen_ai.prompt')).toEqual({
        key: 'gen_ai.prompt',
        value: JSON.stringify(RESTRICTED_PLACEHOLDER),
        type: 'string',
        restricted: true,
      });
      expect(root.attributes.find((a) => a.key === 'run_id')).toMatchObject({
        value: JSON.stringify(run.runId),
        restricted: false,
      });
      // Never silently present: the prompt is nowhere in the answer, for any role.
      expect(JSON.stringify(got)).not.toContain(PROMPT);
      expect(trace.spans[1]).toMatchObject({ masked: [], restrictedKeys: [] });
    }
  });

  it('reveal: owners and security get the value after exactly one audit event; everyone else is refused and audited', async () => {
    const t = await h.createTenant('rv');
    const run = await storeRun(t.id);
    const vars = { t: t.id, tr: run.traceId, s: run.rootSpanId, k: 'gen_ai.prompt', r: REASON };
    for (const role of ROLES) {
      const user = await h.member(t.id, role);
      const requestId = `req-${randomUUID()}`;
      const r = await h.gql<{
        revealField: { value: string; valueJson: string; requestId: string };
      }>(REVEAL, vars, user.token, { 'x-request-id': requestId, 'user-agent': 'traces-spec/1.0' });
      const reveals = await h.auditEvents({ actorId: user.id, action: 'trace.reveal' });
      if (REVEALERS.includes(role)) {
        expect({ role, errors: r.errors }).toEqual({ role, errors: undefined });
        expect(r.data!.revealField).toEqual({
          key: 'gen_ai.prompt',
          value: PROMPT,
          valueJson: JSON.stringify(PROMPT),
          requestId,
        });
        expect(reveals).toHaveLength(1);
        expect(reveals[0]).toMatchObject({
          tenantId: t.id,
          outcome: 'success',
          targetType: 'Span',
          targetId: `${run.traceId}/${run.rootSpanId}`,
          fields: ['gen_ai.prompt'],
          reason: REASON,
          requestId,
          userAgent: 'traces-spec/1.0',
        });
        expect(reveals[0].ip).toMatch(/127\.0\.0\.1/);
        expect(
          JSON.stringify(reveals[0], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
        ).not.toContain(PROMPT);
      } else {
        expect({ role, code: code(r) }).toEqual({ role, code: 'FORBIDDEN' });
        expect(reveals).toHaveLength(0);
        const denials = await h.auditEvents({ actorId: user.id, action: 'authz.denied' });
        expect(denials).toHaveLength(1);
        expect(denials[0]).toMatchObject({ tenantId: t.id, outcome: 'denied' });
      }
    }
    // The chain with the reveals in it still verifies.
    const owner = await h.member(t.id, 'owner');
    const chain = await h.ok<{ verifyAuditChain: { ok: boolean } }>(
      `query($t: ID) { verifyAuditChain(tenantId: $t) { ok } }`,
      { t: t.id },
      owner.token,
    );
    expect(chain.verifyAuditChain.ok).toBe(true);
  });

  it('a reveal of a missing span or key is NOT_FOUND, audited once as a failure; bad input names every problem', async () => {
    const t = await h.createTenant('nf');
    const run = await storeRun(t.id);
    const sec = await h.member(t.id, 'security');
    const base = { t: t.id, tr: run.traceId, s: run.rootSpanId, k: 'gen_ai.prompt', r: REASON };
    const missingKey = await h.gql(REVEAL, { ...base, k: 'run_id' }, sec.token);
    expect(code(missingKey)).toBe('NOT_FOUND');
    expect(missingKey.errors![0].message).toContain('restricted keys: gen_ai.prompt');
    const missingSpan = await h.gql(REVEAL, { ...base, s: 'ffffffffffffffff' }, sec.token);
    expect(code(missingSpan)).toBe('NOT_FOUND');
    const events = await h.auditEvents({ actorId: sec.id, action: 'trace.reveal' });
    expect(events.map((e) => [e.outcome, e.fields])).toEqual([
      ['failure', ['run_id']],
      ['failure', ['gen_ai.prompt']],
    ]);

    const bad = await h.gql(
      REVEAL,
      { ...base, tr: 'xyz', s: run.traceId, r: 'because' },
      sec.token,
    );
    expect(code(bad)).toBe('BAD_USER_INPUT');
    expect(bad.errors![0].extensions!.problems).toEqual([
      'traceId: expected a trace id of 32 hexadecimal characters, got "xyz"',
      `spanId: expected a span id of 16 hexadecimal characters, got "${run.traceId}"`,
      'reason: say why you need the value, at least 10 characters (it is kept in the audit log), got 7',
    ]);
    const badGet = await h.gql(GET, { t: t.id, id: '123' }, sec.token);
    expect(code(badGet)).toBe('BAD_USER_INPUT');
    const unknown = await h.gql(GET, { t: t.id, id: randomBytes(16).toString('hex') }, sec.token);
    expect(code(unknown)).toBe('NOT_FOUND');
    expect((await h.auditEvents({ actorId: sec.id, action: 'trace.reveal' })).length).toBe(2);
  });

  it(`reveals are rate limited per user: ${REVEAL_RATE_LIMIT.reveals} pass, the next is refused and audited`, async () => {
    const t = await h.createTenant('rl');
    const run = await storeRun(t.id);
    const sec = await h.member(t.id, 'security');
    const vars = { t: t.id, tr: run.traceId, s: run.rootSpanId, k: 'gen_ai.prompt', r: REASON };
    for (let i = 0; i < REVEAL_RATE_LIMIT.reveals; i++) {
      const r = await h.gql(REVEAL, vars, sec.token);
      expect({ i, errors: r.errors }).toEqual({ i, errors: undefined });
    }
    const over = await h.gql<{ revealField: { value: string } }>(REVEAL, vars, sec.token);
    expect(code(over)).toBe('TOO_MANY_REQUESTS');
    expect(over.errors![0].message).toMatch(/at most 30 reveals per 10 minutes/);
    expect(over.data).toBeNull();
    const events = await h.auditEvents({ actorId: sec.id, action: 'trace.reveal' });
    expect(events.map((e) => e.outcome)).toEqual([
      ...new Array<string>(REVEAL_RATE_LIMIT.reveals).fill('success'),
      'denied',
    ]);
    // Another user's budget is their own.
    const other = await h.member(t.id, 'security');
    expect((await h.gql(REVEAL, vars, other.token)).errors).toBeUndefined();
  });
});

describe('search', () => {
  it('filters by run, tool, span name, service, error, duration and time range, and pages', async () => {
    const t = await h.createTenant('se');
    const analyst = await h.member(t.id, 'analyst');
    const now = Date.now();
    const ok = await storeRun(t.id, { startMs: now - 120_000 });
    const failed = await storeRun(t.id, { error: true, startMs: now - 60_000 });
    const old = await storeRun(t.id, { startMs: now - 3 * 86_400_000 });
    const ids = async (f: Record<string, unknown>, first?: number, after?: string) => {
      const d = await h.ok<SearchData>(SEARCH, { t: t.id, f, first, after }, analyst.token);
      return { ids: d.traces.items.map((i) => i.traceId), next: d.traces.nextCursor };
    };
    expect((await ids({})).ids).toEqual([failed.traceId, ok.traceId]);
    expect((await ids({ from: new Date(now - 4 * 86_400_000).toISOString() })).ids).toEqual([
      failed.traceId,
      ok.traceId,
      old.traceId,
    ]);
    expect((await ids({ runId: ok.runId })).ids).toEqual([ok.traceId]);
    expect((await ids({ error: true })).ids).toEqual([failed.traceId]);
    expect((await ids({ error: false })).ids).toEqual([ok.traceId]);
    expect((await ids({ toolName: 'search', spanName: 'agent.run' })).ids).toHaveLength(2);
    expect((await ids({ service: 'nope' })).ids).toEqual([]);
    expect((await ids({ minDurationMs: 1000, maxDurationMs: 1300 })).ids).toHaveLength(2);
    expect((await ids({ minDurationMs: 1300 })).ids).toEqual([]);
    const page1 = await ids({}, 1);
    expect(page1.ids).toEqual([failed.traceId]);
    const page2 = await ids({}, 1, page1.next!);
    expect(page2).toEqual({ ids: [ok.traceId], next: null });

    const bad = await h.gql(
      SEARCH,
      {
        t: t.id,
        f: { from: new Date(now - 40 * 86_400_000).toISOString(), minDurationMs: -5 },
        first: 0,
        after: 'garbage',
      },
      analyst.token,
    );
    expect(code(bad)).toBe('BAD_USER_INPUT');
    expect((bad.errors![0].extensions!.problems as string[]).map((p) => p.split(':')[0])).toEqual([
      'filter.from',
      'first',
      'filter.minDurationMs',
    ]);
    const badCursor = await h.gql(SEARCH, { t: t.id, after: 'garbage' }, analyst.token);
    expect(code(badCursor)).toBe('BAD_USER_INPUT');
  });
});

describe('cross-tenant', () => {
  it("tenant A's users in every role cannot search, read or reveal tenant B's traces", async () => {
    const a = await h.createTenant('xa');
    const b = await h.createTenant('xb');
    const runB = await storeRun(b.id);
    for (const role of ROLES) {
      const user = await h.member(a.id, role);
      const search = await h.gql(SEARCH, { t: b.id, f: { runId: runB.runId } }, user.token);
      const get = await h.gql(GET, { t: b.id, id: runB.traceId }, user.token);
      const reveal = await h.gql(
        REVEAL,
        { t: b.id, tr: runB.traceId, s: runB.rootSpanId, k: 'gen_ai.prompt', r: REASON },
        user.token,
      );
      expect({ role, codes: [code(search), code(get), code(reveal)] }).toEqual({
        role,
        codes: ['FORBIDDEN', 'FORBIDDEN', 'FORBIDDEN'],
      });
      expect(JSON.stringify([search, get, reveal])).not.toContain(PROMPT);
      const denials = await h.auditEvents({ actorId: user.id, action: 'authz.denied' });
      expect(denials.filter((d) => d.tenantId === b.id)).toHaveLength(3);
      // Aimed at their own tenant, B's ids are simply not there.
      if (READERS.includes(role)) {
        const own = await h.gql<SearchData>(
          SEARCH,
          { t: a.id, f: { runId: runB.runId } },
          user.token,
        );
        expect(own.data!.traces.items).toEqual([]);
        expect(code(await h.gql(GET, { t: a.id, id: runB.traceId }, user.token))).toBe('NOT_FOUND');
      }
      if (REVEALERS.includes(role)) {
        const own = await h.gql(
          REVEAL,
          { t: a.id, tr: runB.traceId, s: runB.rootSpanId, k: 'gen_ai.prompt', r: REASON },
          user.token,
        );
        expect(code(own)).toBe('NOT_FOUND');
        expect(JSON.stringify(own)).not.toContain(PROMPT);
      }
    }
    expect(await h.auditEvents({ tenantId: b.id, action: 'trace.reveal' })).toEqual([]);
  });
});
