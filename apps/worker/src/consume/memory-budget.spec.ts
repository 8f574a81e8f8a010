import { loadConfig } from '@custodian/config';
import { FULLNAME, find, podSpec, render, renderError, roleName } from '../../../../test/helm/helm';
import {
  MIN_WORKER_MEMORY_MIB,
  estimateDeliveryBytes,
  heapFlags,
  heapLimitWarning,
  workerMemoryPlan,
} from './memory-budget';

const MIB = 1024 * 1024;

describe('workerMemoryPlan', () => {
  it('derives every sub-budget from the one setting, and they fit in it', () => {
    const plan = workerMemoryPlan(1024);
    expect(plan).toEqual({
      budgetMiB: 1024,
      heapMiB: 614,
      tailBufferBytes: Math.floor(1024 * MIB * 0.15),
      tenantTailBufferBytes: Math.floor(Math.floor(1024 * MIB * 0.15) / 2),
      fetchMaxBytes: 4 * MIB,
      fetchMaxBytesPerPartition: 1 * MIB,
      deliveryMaxPendingBytes: Math.floor(1024 * MIB * 0.12),
      deliveryMaxPendingItems: 100_000,
    });
    // What the worker holds itself stays within the heap it is given, with room to collect.
    const held = plan.tailBufferBytes + plan.deliveryMaxPendingBytes;
    expect(held).toBeLessThan(plan.heapMiB * MIB * 0.5);
    expect(plan.heapMiB * MIB + plan.fetchMaxBytes).toBeLessThan(1024 * MIB);
  });

  it('scales with the budget, fetches at least 1 MiB per partition', () => {
    const small = workerMemoryPlan(MIN_WORKER_MEMORY_MIB);
    const big = workerMemoryPlan(8192);
    expect(small.fetchMaxBytes).toBe(2 * MIB);
    expect(small.fetchMaxBytesPerPartition).toBe(1 * MIB);
    expect(Math.abs(big.tailBufferBytes - small.tailBufferBytes * 16)).toBeLessThan(16);
    expect(big.heapMiB).toBe(4915);
    expect(heapFlags(small)).toEqual(['--max-old-space-size=307']);
  });

  it('keeps CUSTODIAN_DELIVERY_MAX_PENDING_ITEMS as the count bound beside the byte bound', () => {
    expect(workerMemoryPlan(1024, 5_000).deliveryMaxPendingItems).toBe(5_000);
    expect(workerMemoryPlan(1024, 5_000).deliveryMaxPendingBytes).toBe(
      workerMemoryPlan(1024).deliveryMaxPendingBytes,
    );
  });

  it("estimates delivery bytes with the tail buffers' measure: a long prompt weighs more", () => {
    const span = (prompt: string) => ({
      traceId: new Uint8Array(16),
      spanId: new Uint8Array(8),
      traceState: '',
      parentSpanId: new Uint8Array(0),
      flags: 0,
      name: 'chat',
      kind: 3,
      startTimeUnixNano: 1n,
      endTimeUnixNano: 2n,
      attributes: [{ key: 'gen_ai.prompt', value: { stringValue: prompt } }],
      droppedAttributesCount: 0,
      events: [],
      droppedEventsCount: 0,
      links: [],
      droppedLinksCount: 0,
    });
    const data = (prompt: string) => ({
      resourceSpans: [
        {
          resource: undefined,
          scopeSpans: [{ spans: [span(prompt)], schemaUrl: '' }],
          schemaUrl: '',
        },
      ],
    });
    const short = estimateDeliveryBytes('traces', data('hi'), 1);
    const long = estimateDeliveryBytes('traces', data('x'.repeat(4096)), 1);
    expect(long - short).toBeGreaterThanOrEqual(8_000);
    expect(estimateDeliveryBytes('logs', { resourceLogs: [] }, 10)).toBe(5_120);
  });

  it('refuses a budget under the documented minimum, as the setting does', () => {
    expect(() => workerMemoryPlan(511)).toThrow(/at least 512 MiB/);
    expect(() => loadConfig({ CUSTODIAN_WORKER_MEMORY_MIB: '511' })).toThrow(
      /CUSTODIAN_WORKER_MEMORY_MIB/,
    );
    expect(loadConfig({}).workerMemoryMib).toBe(1024);
  });
});

describe('heapLimitWarning', () => {
  const plan = workerMemoryPlan(512);

  it('warns when V8 may grow past the budget (started without the heap flag)', () => {
    const w = heapLimitWarning(plan, 4144 * MIB);
    expect(w).toMatch(/4144 MiB exceeds CUSTODIAN_WORKER_MEMORY_MIB=512/);
    expect(w).toMatch(/NODE_OPTIONS=--max-old-space-size=307/);
  });

  it('is quiet when the heap limit fits the budget', () => {
    // --max-old-space-size=307 gives heap_size_limit ≈ 307 MiB + the young generation.
    expect(heapLimitWarning(plan, 355 * MIB)).toBeUndefined();
  });
});

describe('the Helm chart derives the same plan from the worker container', () => {
  // The chart computes the heap flag with integer arithmetic (templates/_helpers.tpl): this
  // keeps it and MEMORY_SHARES.heapPercent from drifting apart.
  const workerEnv = (values: string[]) => {
    const manifests = render(values);
    const config = find(manifests, 'ConfigMap', FULLNAME).data ?? {};
    const [c] = podSpec(find(manifests, 'Deployment', roleName('worker'))).containers;
    const nodeOptions = c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value;
    return {
      budget: Number(config.CUSTODIAN_WORKER_MEMORY_MIB),
      nodeOptions,
      limit: c.resources?.limits?.memory,
    };
  };

  it.each([
    [[] as string[], 2048],
    [['--set', 'worker.resources.limits.memory=1536Mi'], 1536],
    [['--set', 'worker.resources.limits.memory=3Gi'], 3072],
    [['--set', 'worker.resources.limits.memory=1000M'], 953],
  ])('values %j → a %i MiB budget and its heap flag', (values, mib) => {
    const env = workerEnv(values);
    expect(env.budget).toBe(mib);
    expect(env.nodeOptions).toBe(heapFlags(workerMemoryPlan(mib)).join(' '));
    // Only the worker gets the flag: the other roles keep V8's defaults.
    const [gateway] = podSpec(find(render(values), 'Deployment', roleName('gateway'))).containers;
    expect(gateway.env?.some((e) => e.name === 'NODE_OPTIONS')).toBe(false);
  });

  it('refuses a worker memory limit it cannot read or below the minimum', () => {
    expect(renderError(['--set', 'worker.resources.limits.memory=1.5Gi'])).toMatch(
      /use a whole number of Gi, Mi, G, M or bytes/,
    );
    expect(renderError(['--set', 'worker.resources.limits.memory=256Mi'])).toMatch(
      /at least 512Mi/,
    );
  });
});
