import {
  auditEventHash,
  canonicalJson,
  genesisHash,
  verifyChain,
  type AuditRecord,
  type ChainedAuditRecord,
} from './chain';

const T = '11111111-1111-1111-1111-111111111111';

function event(seq: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return {
    seq,
    tenantId: T,
    actorType: 'user',
    actorId: 'u1',
    action: 'api_key.create',
    targetType: 'ApiKey',
    targetId: `k${seq}`,
    fields: [],
    reason: null,
    ip: '10.0.0.1',
    userAgent: 'curl',
    requestId: `r${seq}`,
    outcome: 'success',
    details: { b: 1, a: [1, { d: 2, c: 3 }] },
    occurredAt: new Date(1_700_000_000_000 + seq),
    ...over,
  };
}

function chain(n: number, tenantId: string | null = T): ChainedAuditRecord[] {
  const rows: ChainedAuditRecord[] = [];
  let prev: Uint8Array = genesisHash(tenantId);
  for (let i = 1; i <= n; i++) {
    const e = event(i * 2, { tenantId });
    const hash = auditEventHash(prev, e);
    rows.push({ ...e, prevHash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe('audit hash chain', () => {
  it('serializes canonically: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: { d: [2], c: null } })).toBe('{"a":{"c":null,"d":[2]},"b":1}');
    expect(auditEventHash(Buffer.alloc(32), event(1, { details: { x: 1, y: 2 } }))).toEqual(
      auditEventHash(Buffer.alloc(32), event(1, { details: { y: 2, x: 1 } })),
    );
    expect(auditEventHash(Buffer.alloc(32), event(1))).not.toEqual(
      auditEventHash(Buffer.alloc(32), event(1, { reason: 'x' })),
    );
  });

  it('gives every chain its own genesis', () => {
    expect(genesisHash(T)).not.toEqual(genesisHash(null));
  });

  it('verifies an intact chain (seq gaps are fine)', () => {
    expect(verifyChain(T, chain(5))).toEqual({
      ok: true,
      checked: 5,
      firstBrokenSeq: null,
      reason: null,
    });
    expect(verifyChain(null, chain(3, null)).ok).toBe(true);
    expect(verifyChain(T, []).ok).toBe(true);
  });

  it('names the first modified row', () => {
    const rows = chain(5);
    rows[2] = { ...rows[2], reason: 'rewritten' };
    expect(verifyChain(T, rows)).toEqual({
      ok: false,
      checked: 3,
      firstBrokenSeq: '6',
      reason: 'hash does not match the row content (the row was modified)',
    });
  });

  it('names the row after a removed one, and a chain missing its start', () => {
    const rows = chain(5);
    expect(verifyChain(T, [...rows.slice(0, 2), ...rows.slice(3)]).firstBrokenSeq).toBe('8');
    expect(verifyChain(T, rows.slice(1))).toMatchObject({ firstBrokenSeq: '4', checked: 1 });
  });

  it('refuses reordering and rows of another chain', () => {
    const rows = chain(3);
    expect(verifyChain(T, [rows[0], rows[2], rows[1]]).firstBrokenSeq).toBe('6');
    expect(verifyChain(null, rows).reason).toMatch(/belongs to chain/);
  });
});
