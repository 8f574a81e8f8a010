/**
 * The policies and sinks operations through the running admin API (GraphQL over HTTP, the
 * global guard, real PostgreSQL and Redis, the real Zipkin): structured validation errors,
 * the redaction boundary for operators, dry-run permissions, secrets never readable through
 * any field of the Sink type, and clearedForRestricted reserved to roles that manage redaction.
 */
import { AdminHarness, code } from './admin-harness';

let h: AdminHarness;
beforeAll(async () => {
  h = await AdminHarness.start();
});
afterAll(async () => {
  await h?.stop();
});

const SECRET = `sk-gql-${Math.random().toString(36).slice(2)}${Date.now()}`;

const SUBMIT = `mutation($input: SubmitPolicyInput!) {
  submitPolicy(input: $input) {
    created message warnings { path message }
    version { id version checksum active format source documentJson }
  }
}`;

const SINK_FIELDS = `id tenantId name kind configJson hasSecret secretKeys secretReadable
  clearedForRestricted enabled createdAt updatedAt`;

const SAMPLING_ONLY = `version: 1
sampling:
  tail:
    decision_wait: 1s
    policies:
      - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
routes:
  - { sink: zipkin, select: all }
`;

const TRACE = JSON.stringify({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'agent' } }] },
      scopeSpans: [
        {
          spans: [
            {
              traceId: '5b8efff798038103d269b633813fc60c',
              spanId: 'eee19b7ec3c1b174',
              name: 'tool',
              startTimeUnixNano: '1700000000000000000',
              endTimeUnixNano: '1700000001000000000',
              status: { code: 2 },
              attributes: [{ key: 'note', value: { stringValue: 'mail jane@example.com' } }],
            },
          ],
        },
      ],
    },
  ],
});

describe('policies over GraphQL', () => {
  it('submits, reports every problem as structured errors, activates, diffs, rolls back', async () => {
    const t = await h.createTenant('gql-pol');
    const owner = await h.member(t.id, 'owner');
    const bad = await h.gql(
      SUBMIT,
      { input: { tenantId: t.id, format: 'YAML', source: 'version: 2\ncolour: blue\n' } },
      owner.token,
    );
    expect(code(bad)).toBe('BAD_USER_INPUT');
    const errors = bad.errors![0].extensions!.errors as { path: string; message: string }[];
    expect(errors.map((e) => e.path).sort()).toEqual(['colour', 'version']);

    const v1 = await h.ok<{ submitPolicy: { created: boolean; version: { version: number } } }>(
      SUBMIT,
      { input: { tenantId: t.id, format: 'YAML', source: SAMPLING_ONLY } },
      owner.token,
    );
    expect(v1.submitPolicy).toMatchObject({ created: true, version: { version: 1 } });
    await h.ok(
      SUBMIT,
      { input: { tenantId: t.id, format: 'JSON', source: '{"version":1}', comment: 'defaults' } },
      owner.token,
    );
    const act = await h.ok<{ activatePolicy: { changed: boolean; version: { active: boolean } } }>(
      `mutation($t: ID!) { activatePolicy(tenantId: $t, version: 1) { changed message previousVersion version { version active } } }`,
      { t: t.id },
      owner.token,
    );
    expect(act.activatePolicy).toMatchObject({ changed: true, version: { active: true } });
    const list = await h.ok<{
      policyVersions: { activeVersion: number; items: { version: number; active: boolean }[] };
    }>(
      `query($t: ID!) { policyVersions(tenantId: $t, limit: 10) { total activeVersion nextBeforeVersion items { version active checksum } } }`,
      { t: t.id },
      owner.token,
    );
    expect(list.policyVersions.activeVersion).toBe(1);
    expect(list.policyVersions.items.map((i) => [i.version, i.active])).toEqual([
      [2, false],
      [1, true],
    ]);
    const diff = await h.ok<{
      policyDiff: { identical: boolean; changes: { path: string }[]; unified: string };
    }>(
      `query($t: ID!) { policyDiff(tenantId: $t, fromVersion: 1, toVersion: 2) { identical unified changes { path change before after } } }`,
      { t: t.id },
      owner.token,
    );
    expect(diff.policyDiff.identical).toBe(false);
    expect(diff.policyDiff.changes.map((c) => c.path)).toContain('sampling.tail');
    await h.ok(
      `mutation($t: ID!) { activatePolicy(tenantId: $t, version: 2) { changed } }`,
      { t: t.id },
      owner.token,
    );
    const rb = await h.ok<{ rollbackPolicy: { version: { version: number } } }>(
      `mutation($t: ID!) { rollbackPolicy(tenantId: $t) { version { version } previousVersion } }`,
      { t: t.id },
      owner.token,
    );
    expect(rb.rollbackPolicy.version.version).toBe(1);
    const events = await h.auditEvents({ tenantId: t.id, actorId: owner.id });
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['policy.submit', 'policy.activate', 'policy.rollback']),
    );
  });

  it('lets an operator change sampling but not redaction', async () => {
    const t = await h.createTenant('gql-op');
    const operator = await h.member(t.id, 'operator');
    const ok = await h.gql(
      SUBMIT,
      { input: { tenantId: t.id, format: 'YAML', source: SAMPLING_ONLY } },
      operator.token,
    );
    expect(ok.errors).toBeUndefined();
    const redaction = await h.gql(
      SUBMIT,
      {
        input: {
          tenantId: t.id,
          format: 'JSON',
          source: JSON.stringify({ version: 1, redaction: { summary: 'silent' } }),
        },
      },
      operator.token,
    );
    expect(code(redaction)).toBe('FORBIDDEN');
    const denied = await h.auditEvents({ tenantId: t.id, action: 'policy.submit' });
    expect(denied.map((e) => e.outcome)).toEqual(['success', 'denied']);
  });

  it('dry-runs for policy authors only', async () => {
    const t = await h.createTenant('gql-dry');
    const operator = await h.member(t.id, 'operator');
    const analyst = await h.member(t.id, 'analyst');
    const q = `query($input: PolicyDryRunInput!) { policyDryRun(input: $input) {
      policySource policyHash input { spans }
      sinks { sink delivered spans tracesJson }
      traceDecisions { traceId sampled reason policy cause spanCount }
      discarded { signal reason count } redaction { signal rule action count }
      attributeChanges { key change count } warnings { path }
    } }`;
    const input = { tenantId: t.id, traces: TRACE, source: SAMPLING_ONLY, format: 'YAML' };
    const r = await h.ok<{
      policyDryRun: {
        traceDecisions: { sampled: boolean; policy: string }[];
        sinks: { sink: string; delivered: boolean; tracesJson: string }[];
        redaction: { rule: string }[];
      };
    }>(q, { input }, operator.token);
    expect(r.policyDryRun.traceDecisions).toEqual([
      expect.objectContaining({ sampled: true, policy: 'errors' }),
    ]);
    expect(r.policyDryRun.sinks[0]).toMatchObject({ sink: 'zipkin', delivered: false });
    expect(r.policyDryRun.sinks[0].tracesJson).not.toContain('jane@example.com');
    expect(r.policyDryRun.redaction.map((x) => x.rule)).toContain('email');
    expect(code(await h.gql(q, { input }, analyst.token))).toBe('FORBIDDEN');
  });
});

describe('sinks over GraphQL', () => {
  it('never returns a secret through any field, and reserves clearedForRestricted', async () => {
    const t = await h.createTenant('gql-sink');
    const owner = await h.member(t.id, 'owner');
    const operator = await h.member(t.id, 'operator');
    const viewer = await h.member(t.id, 'viewer');
    const created = await h.gql<{ createSink: { id: string; secretKeys: string[] } }>(
      `mutation($input: CreateSinkInput!) { createSink(input: $input) { ${SINK_FIELDS} } }`,
      {
        input: {
          tenantId: t.id,
          name: 'zipkin',
          kind: 'zipkin',
          configJson: JSON.stringify({ endpoint: process.env.ZIPKIN_URL }),
          secretJson: JSON.stringify({ headers: { authorization: `Bearer ${SECRET}` } }),
        },
      },
      operator.token,
    );
    expect(created.errors).toBeUndefined();
    const id = created.data!.createSink.id;
    expect(created.data!.createSink.secretKeys).toEqual(['headers.authorization']);
    for (const token of [owner.token, operator.token, viewer.token]) {
      const r = await h.gql(
        `query($t: ID!, $s: ID!) { sinks(tenantId: $t) { ${SINK_FIELDS} } sink(tenantId: $t, sinkId: $s) { ${SINK_FIELDS} } }`,
        { t: t.id, s: id },
        token,
      );
      expect(r.errors).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain(SECRET);
    }
    expect(JSON.stringify(created)).not.toContain(SECRET);

    const update = `mutation($input: UpdateSinkInput!) { updateSink(input: $input) { clearedForRestricted enabled } }`;
    const refused = await h.gql(
      update,
      { input: { tenantId: t.id, sinkId: id, clearedForRestricted: true } },
      operator.token,
    );
    expect(code(refused)).toBe('FORBIDDEN');
    const disabled = await h.ok<{ updateSink: { enabled: boolean } }>(
      update,
      { input: { tenantId: t.id, sinkId: id, enabled: false } },
      operator.token,
    );
    expect(disabled.updateSink.enabled).toBe(false);
    const cleared = await h.ok<{ updateSink: { clearedForRestricted: boolean } }>(
      update,
      { input: { tenantId: t.id, sinkId: id, clearedForRestricted: true, enabled: true } },
      owner.token,
    );
    expect(cleared.updateSink.clearedForRestricted).toBe(true);

    const test = await h.ok<{
      testSinkConnectivity: { ok: boolean; status: string; message: string };
    }>(
      `mutation($t: ID!, $s: ID!) { testSinkConnectivity(tenantId: $t, sinkId: $s) { ok latencyMs signal status message retryable } }`,
      { t: t.id, s: id },
      operator.token,
    );
    expect(test.testSinkConnectivity).toMatchObject({ ok: true, status: 'ok' });
    expect(
      code(
        await h.gql(
          `mutation($t: ID!, $s: ID!) { deleteSink(tenantId: $t, sinkId: $s) }`,
          { t: t.id, s: id },
          viewer.token,
        ),
      ),
    ).toBe('FORBIDDEN');
    expect(
      (
        await h.ok<{ deleteSink: boolean }>(
          `mutation($t: ID!, $s: ID!) { deleteSink(tenantId: $t, sinkId: $s) }`,
          { t: t.id, s: id },
          owner.token,
        )
      ).deleteSink,
    ).toBe(true);
    const actions = (await h.auditEvents({ tenantId: t.id })).map(
      (e) => `${e.action}:${e.outcome}`,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'sink.create:success',
        'sink.update:denied',
        'sink.update:success',
        'sink.test:success',
        'sink.delete:success',
      ]),
    );
  });
});
