import { attr, batch, logBatch, logRecord, span, traceId } from '../../testdata/fixtures';
import {
  CompiledRetention,
  RETENTION_CLASS_ATTRIBUTE,
  RETENTION_DAYS_ATTRIBUTE,
  validateRetentionConfig,
} from './retention';

const config = validateRetentionConfig({
  classes: { raw_prompts: { days: 7 }, audit: { days: 365 }, standard: { days: 30 } },
  default_class: 'standard',
  rules: [
    { name: 'prompts', class: 'raw_prompts', match: { attributes: [{ key: 'gen_ai.prompt' }] } },
    { class: 'audit', match: { services: ['billing'] } },
    { class: 'audit', match: { span_names: ['payment.capture'] } },
  ],
}).config!;

const cls = (attrs: { key: string; value: { stringValue?: string; intValue?: bigint } }[]) => [
  attrs.find((a) => a.key === RETENTION_CLASS_ATTRIBUTE)?.value.stringValue,
  attrs.find((a) => a.key === RETENTION_DAYS_ATTRIBUTE)?.value.intValue,
];

describe('retention', () => {
  const r = new CompiledRetention(config);

  it('classes spans by attribute presence, service and span name; first rule wins', () => {
    const prompt = span({ traceId: traceId(1), attributes: [attr('gen_ai.prompt', 'hi')] });
    const plain = span({ traceId: traceId(1) });
    const pay = span({
      traceId: traceId(1),
      name: 'payment.capture',
      attributes: [attr('gen_ai.prompt', 'x')],
    });
    const capture = span({ traceId: traceId(1), name: 'payment.capture' });
    r.applyToTraces(batch([prompt, plain, pay, capture]));
    expect(cls(prompt.attributes)).toEqual(['raw_prompts', 7n]);
    expect(cls(plain.attributes)).toEqual(['standard', 30n]);
    expect(cls(pay.attributes)).toEqual(['raw_prompts', 7n]);
    expect(cls(capture.attributes)).toEqual(['audit', 365n]);
    const billing = span({ traceId: traceId(2) });
    r.applyToTraces(batch([billing], 'billing'));
    expect(cls(billing.attributes)).toEqual(['audit', 365n]);
  });

  it('overwrites a class the tenant sent itself', () => {
    const s = span({
      traceId: traceId(1),
      attributes: [
        attr(RETENTION_CLASS_ATTRIBUTE, 'forever'),
        attr(RETENTION_DAYS_ATTRIBUTE, 99999),
      ],
    });
    r.applyToTraces(batch([s]));
    expect(cls(s.attributes)).toEqual(['standard', 30n]);
    expect(s.attributes).toHaveLength(2);
  });

  it('classes log records too', () => {
    const logs = logBatch([logRecord({ attributes: [attr('gen_ai.prompt', 'p')] }), logRecord({})]);
    r.applyToLogs(logs);
    expect(logs.resourceLogs[0].scopeLogs[0].logRecords.map((l) => cls(l.attributes)[0])).toEqual([
      'raw_prompts',
      'standard',
    ]);
    expect(r.classify([], undefined, undefined, [attr('gen_ai.prompt', 'p')])).toEqual({
      name: 'raw_prompts',
      days: 7,
    });
  });

  it('validates classes, days and references, reporting every problem', () => {
    const v = validateRetentionConfig({
      classes: { 'Bad Name': { days: 3 }, short: { days: 0 }, long: { days: 4000 } },
      default_class: 'missing',
      rules: [{ class: 'nope', match: {} }, { class: 'short' }],
    });
    expect(v.config).toBeUndefined();
    expect(v.problems.map((p) => p.path)).toEqual([
      'retention.classes.Bad Name',
      'retention.classes.short.days',
      'retention.classes.long.days',
      'retention.default_class',
      'retention.rules[0].class',
      'retention.rules[0].match',
      'retention.rules[1].match',
    ]);
  });
});
