/**
 * values.schema.json and the chart's cross-field rules reject bad values before anything reaches
 * a cluster. Each file in testdata/invalid/ is one operator mistake; its `# expect:` lines are
 * what helm must say (the path of each bad field), all in one run.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { helm, CHART, KUBE_VERSION, find, render, renderError, roleName } from './helm';

jest.setTimeout(60000);

const INVALID = join(__dirname, 'testdata', 'invalid');
const cases = readdirSync(INVALID)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const text = readFileSync(join(INVALID, file), 'utf8');
    const expects = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1]);
    return { file, expects };
  });

describe('values the chart rejects (testdata/invalid)', () => {
  it('has cases, each saying what helm must report', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases)
      expect({ file: c.file, n: c.expects.length > 0 }).toEqual({ file: c.file, n: true });
  });

  it.each(cases)('$file', ({ file, expects }) => {
    const stderr = renderError(['-f', join(INVALID, file)]);
    for (const e of expects) expect(stderr).toContain(e);
  });

  it('are rejected by helm lint --strict too', () => {
    const r = helm([
      'lint',
      '--strict',
      CHART,
      '--kube-version',
      KUBE_VERSION,
      '-f',
      join(INVALID, 'writable-root.yaml'),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('/securityContext/readOnlyRootFilesystem');
  });
});

describe('worker scaling against kafka.partitions', () => {
  it('renders exactly when maxReplicas <= partitions, and wires the partition count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 48 }),
        fc.integer({ min: 1, max: 48 }),
        (partitions, maxReplicas) => {
          const values = [
            '--set',
            `kafka.partitions=${partitions}`,
            '--set',
            `worker.autoscaling.maxReplicas=${maxReplicas}`,
            '--set',
            'worker.autoscaling.minReplicas=1',
          ];
          if (maxReplicas > partitions) {
            expect(renderError(values)).toContain(
              `worker.autoscaling.maxReplicas (${maxReplicas}) must not exceed kafka.partitions (${partitions})`,
            );
            return;
          }
          const m = render(values);
          const hpa = find(m, 'HorizontalPodAutoscaler', roleName('worker')).spec as {
            maxReplicas: number;
          };
          expect(hpa.maxReplicas).toBe(maxReplicas);
          expect(find(m, 'ConfigMap', 'cus-custodian').data?.KAFKA_TOPIC_PARTITIONS).toBe(
            String(partitions),
          );
        },
      ),
      { numRuns: 25 },
    );
  });
});
