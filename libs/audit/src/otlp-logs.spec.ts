import { decodeLogs, encodeLogs, encodeLogsJson } from '@custodian/otlp';
import { auditEventHash, genesisHash, type ChainedAuditRecord } from './chain';
import { auditEventsToLogs } from './otlp-logs';

function chained(n: number): ChainedAuditRecord[] {
  const out: ChainedAuditRecord[] = [];
  let prev = genesisHash('t-1');
  for (let i = 0; i < n; i++) {
    const base = {
      seq: BigInt(100 + i),
      tenantId: 't-1',
      actorType: 'user',
      actorId: `u-${i}`,
      action: i === 1 ? 'trace.reveal' : 'sink.create',
      targetType: 'Span',
      targetId: 'abc',
      fields: i === 1 ? ['gen_ai.input.messages'] : [],
      reason: i === 1 ? 'incident INC-42 needs the prompt' : null,
      ip: '10.0.0.9',
      userAgent: 'curl/8',
      requestId: `req-${i}`,
      outcome: i === 2 ? 'denied' : 'success',
      details: i === 0 ? { name: 'zipkin', kind: 'zipkin' } : {},
      occurredAt: new Date(Date.UTC(2026, 10, 24, 6, 0, i)),
    };
    const hash = auditEventHash(prev, base);
    out.push({ ...base, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

function attrs(rec: { attributes: { key: string; value: { stringValue?: string } }[] }) {
  return Object.fromEntries(rec.attributes.map((a) => [a.key, a.value.stringValue]));
}

describe('audit events as OTLP logs', () => {
  const events = chained(3);
  const logs = auditEventsToLogs({ id: 't-1', slug: 'acme' }, events);

  it('maps every event to one record, in seq order, with the columns as attributes', () => {
    const records = logs.resourceLogs[0].scopeLogs[0].logRecords;
    expect(records.map((r) => attrs(r)['custodian.audit.seq'])).toEqual(['100', '101', '102']);
    const reveal = records[1];
    expect(reveal.eventName).toBe('custodian.audit.trace.reveal');
    expect(attrs(reveal)).toMatchObject({
      'custodian.audit.action': 'trace.reveal',
      'custodian.audit.actor.id': 'u-1',
      'custodian.audit.reason': 'incident INC-42 needs the prompt',
      'client.address': '10.0.0.9',
      'user_agent.original': 'curl/8',
      'custodian.audit.request_id': 'req-1',
      'custodian.audit.hash': Buffer.from(events[1].hash).toString('hex'),
      'custodian.audit.prev_hash': Buffer.from(events[0].hash).toString('hex'),
    });
    const fields = reveal.attributes.find((a) => a.key === 'custodian.audit.fields');
    expect(fields?.value.arrayValue?.values.map((v) => v.stringValue)).toEqual([
      'gen_ai.input.messages',
    ]);
    expect(reveal.timeUnixNano).toBe(BigInt(events[1].occurredAt.getTime()) * 1_000_000n);
    expect(attrs(records[0])['custodian.audit.details']).toBe('{"kind":"zipkin","name":"zipkin"}');
  });

  it('marks refusals as warnings and successes as info', () => {
    const records = logs.resourceLogs[0].scopeLogs[0].logRecords;
    expect(records.map((r) => r.severityText)).toEqual(['INFO', 'INFO', 'WARN']);
    expect(records[2].body?.stringValue).toBe('sink.create denied by user u-2');
  });

  it('names the tenant on the resource and survives the protobuf and JSON codecs', () => {
    const res = attrs(logs.resourceLogs[0].resource!);
    expect(res).toEqual({
      'service.name': 'custodian-audit',
      'custodian.tenant.id': 't-1',
      'custodian.tenant.slug': 'acme',
    });
    const back = decodeLogs(encodeLogs(logs));
    expect(back.resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(3);
    expect(attrs(back.resourceLogs[0].scopeLogs[0].logRecords[1])['custodian.audit.action']).toBe(
      'trace.reveal',
    );
    expect(JSON.parse(encodeLogsJson(logs)).resourceLogs[0].scopeLogs[0].scope.name).toBe(
      'custodian.audit',
    );
  });
});
