import { laneName, parseSinkMember, redriveJob, sinkMember, sinksKey } from './retry-lane';

describe('retry lanes (shared by SinkDelivery and DeadLetterControl)', () => {
  it('names a lane without ":" (BullMQ forbids it) and keeps tenants apart', () => {
    expect(laneName('cd', 't:1', 's.1')).toBe('cd.t%3A1.s.1');
    expect(laneName('cd', 't1', 's1')).not.toBe(laneName('cd', 't2', 's1'));
    expect(sinksKey('cd')).toBe('cd:sinks');
  });

  it('round-trips a lane member and ignores foreign members', () => {
    expect(parseSinkMember(sinkMember('t1', 's1'))).toEqual(['t1', 's1']);
    for (const bad of ['', 'x', '["t1"]', '[1,2]', '{"a":1}', '["a","b","c"]'])
      expect(parseSinkMember(bad)).toBeUndefined();
  });

  it('turns a dead letter into a fresh job: full attempt budget, no prior attempts', () => {
    const { data, opts } = redriveJob(
      't1',
      's1',
      {
        id: '7',
        signal: 'traces',
        items: 3,
        reason: 'permanent_error',
        error: 'HTTP 400',
        firstFailedAt: 1000,
        deadLetteredAt: 2000,
        attempts: 4,
        payload: Buffer.from([1, 2, 3]),
      },
      { maxAttempts: 6 },
    );
    expect(data).toEqual({
      tenantId: 't1',
      sinkId: 's1',
      signal: 'traces',
      items: 3,
      payload: 'AQID',
      firstFailedAt: 1000,
      priorAttempts: 0,
      lastError: 'HTTP 400',
    });
    expect(opts).toMatchObject({ attempts: 6, removeOnComplete: true, removeOnFail: true });
  });
});
