import { allSpans, attr, batch, logBatch, logRecord, span, traceId } from '../../testdata/fixtures';
import { CompiledRoutes, validateRoutesConfig } from './routes';

const routes = new CompiledRoutes(
  validateRoutesConfig([
    { sink: 'store', restricted_fields: true },
    { sink: 'oncall', select: 'errors' },
    { sink: 'llm-only', include: { span_names: ['llm.chat'] }, signals: ['traces'] },
    {
      sink: 'no-health',
      exclude: { attributes: [{ key: 'url.path', value: '/health' }] },
      signals: ['logs', 'metrics'],
    },
  ]).config!,
);

describe('routes', () => {
  it('fans a trace out to every route that selects it', () => {
    const ok = batch([
      span({ traceId: traceId(1), name: 'llm.chat' }),
      span({ traceId: traceId(1), name: 'tool.call' }),
    ]).resourceSpans;
    const out = routes.routeTraces(ok);
    expect(
      out.map((r) => [
        r.sink,
        r.restrictedFields,
        allSpans({ resourceSpans: r.spans }).map((s) => s.name),
      ]),
    ).toEqual([
      ['store', true, ['llm.chat', 'tool.call']],
      ['llm-only', false, ['llm.chat']],
    ]);
    expect(out[0].spans).toBe(ok); // unfiltered routes share the input
  });

  it('errors-only routes get whole traces that contain an error span', () => {
    const failed = batch([
      span({ traceId: traceId(2), name: 'plan' }),
      span({ traceId: traceId(2), name: 'tool.call', status: 2 }),
    ]).resourceSpans;
    const oncall = routes.routeTraces(failed).find((r) => r.sink === 'oncall')!;
    expect(allSpans({ resourceSpans: oncall.spans }).map((s) => s.name)).toEqual([
      'plan',
      'tool.call',
    ]);
  });

  it('errors-only routes pick the failed traces out of a batch of several, whole', () => {
    const mixed = batch([
      span({ traceId: traceId(3), name: 'ok-run' }),
      span({ traceId: traceId(4), name: 'failed-plan' }),
      span({ traceId: traceId(3), name: 'ok-tool' }),
      span({ traceId: traceId(4), name: 'failed-tool', status: 2 }),
    ]).resourceSpans;
    const out = routes.routeTraces(mixed);
    const names = (sink: string) =>
      allSpans({ resourceSpans: out.find((r) => r.sink === sink)!.spans }).map((s) => s.name);
    expect(names('oncall')).toEqual(['failed-plan', 'failed-tool']);
    expect(names('store')).toEqual(['ok-run', 'failed-plan', 'ok-tool', 'failed-tool']);
    const healthy = batch([span({ traceId: traceId(5) })]).resourceSpans;
    expect(routes.routeTraces(healthy).map((r) => r.sink)).toEqual(['store']);
  });

  it('routes logs by severity and filter, and metrics whole', () => {
    const logs = logBatch([
      logRecord({ severity: 17, attributes: [attr('url.path', '/health')] }),
      logRecord({ severity: 9, attributes: [attr('url.path', '/v1')] }),
    ]);
    const out = routes.routeLogs(logs);
    const sev = (sink: string) =>
      out
        .find((r) => r.sink === sink)
        ?.logs.resourceLogs[0].scopeLogs[0].logRecords.map((r) => r.severityNumber);
    expect(sev('store')).toEqual([17, 9]);
    expect(sev('oncall')).toEqual([17]);
    expect(sev('no-health')).toEqual([9]);
    expect(out.find((r) => r.sink === 'llm-only')).toBeUndefined();
    expect(routes.routeMetrics({ resourceMetrics: [] }).map((r) => r.sink)).toEqual([
      'store',
      'no-health',
    ]);
  });

  it('validates routes, refusing a sink routed twice', () => {
    const v = validateRoutesConfig([
      { sink: 'a', select: 'some', signals: ['spans'] },
      { sink: 'a' },
      { restricted_fields: 'yes' },
    ]);
    expect(v.problems.map((p) => p.path)).toEqual([
      'routes[0].select',
      'routes[0].signals[0]',
      'routes[1].sink',
      'routes[2].sink',
      'routes[2].restricted_fields',
    ]);
    expect(validateRoutesConfig({}).problems[0].path).toBe('routes');
  });
});
