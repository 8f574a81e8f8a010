import fc from 'fast-check';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import { fnv1a32Seeded, HeadSampler, validateHeadSamplingConfig } from './head';
import { traceIdHex } from './trace-id';

const traceIdArb = fc.uint8Array({ minLength: 16, maxLength: 16 });

describe('fnv1a32Seeded', () => {
  it('is FNV-1a 32 over the seed (little-endian) followed by the bytes', () => {
    // FNV-1a 32("foobar") = 0xbf9cf968; "foob" read little-endian is 0x626f6f66.
    expect(fnv1a32Seeded(new TextEncoder().encode('ar'), 0x626f6f66)).toBe(0xbf9cf968);
    // FNV-1a 32("a\0\0\0"...) sanity: seed 0x61 = bytes 61 00 00 00.
    expect(fnv1a32Seeded(new Uint8Array(0), 0x61)).not.toBe(fnv1a32Seeded(new Uint8Array(0), 0x62));
  });
});

describe('HeadSampler', () => {
  it('keeps everything at 100% and nothing at 0%, in every mode', () => {
    fc.assert(
      fc.property(traceIdArb, (id) => {
        if (id.every((b) => b === 0)) id[15] = 1; // the invalid id is tested on its own
        for (const mode of ['hash_seed', 'proportional', 'trace_id_ratio'] as const) {
          expect(new HeadSampler({ sampling_percentage: 100, mode }).keep(id)).toBe(true);
          expect(new HeadSampler({ sampling_percentage: 0, mode }).keep(id)).toBe(false);
        }
      }),
    );
  });

  it('decides the same way for the same trace id, on any instance', () => {
    fc.assert(
      fc.property(
        traceIdArb,
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.constantFrom('hash_seed' as const, 'proportional' as const, 'trace_id_ratio' as const),
        fc.integer({ min: 0, max: 0xffffffff }),
        (id, pct, mode, seed) => {
          const cfg =
            mode === 'hash_seed'
              ? { sampling_percentage: pct, mode, hash_seed: seed }
              : { sampling_percentage: pct, mode };
          const a = new HeadSampler(cfg);
          const b = new HeadSampler(cfg);
          expect(a.keep(id)).toBe(b.keep(Uint8Array.from(id)));
          expect(a.keep(id)).toBe(a.keep(id));
        },
      ),
    );
  });

  it('converges to the configured percentage', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 99 }),
        fc.constantFrom('hash_seed' as const, 'proportional' as const, 'trace_id_ratio' as const),
        fc.integer({ min: 1, max: 1e9 }),
        (pct, mode, seed) => {
          const sampler = new HeadSampler({ sampling_percentage: pct, mode });
          let state = seed;
          const id = new Uint8Array(16);
          const n = 20_000;
          let kept = 0;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < 16; j++) {
              state = (Math.imul(state, 1103515245) + 12345) >>> 0;
              id[j] = state >>> 24;
            }
            if (sampler.keep(id)) kept++;
          }
          expect(Math.abs(kept / n - pct / 100)).toBeLessThan(0.02);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('proportional mode is nested: a trace kept at p is kept at every higher rate', () => {
    fc.assert(
      fc.property(
        traceIdArb,
        fc.double({ min: 0, max: 100, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (id, p1, p2) => {
          const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1];
          if (new HeadSampler({ sampling_percentage: lo, mode: 'proportional' }).keep(id)) {
            expect(
              new HeadSampler({ sampling_percentage: hi, mode: 'proportional' }).keep(id),
            ).toBe(true);
          }
        },
      ),
    );
  });

  it('proportional mode reads the low 56 bits of the trace id as randomness', () => {
    const s = new HeadSampler({ sampling_percentage: 50, mode: 'proportional' });
    const high = new Uint8Array(16);
    high.fill(0xff, 9); // R = 2^56 - 1 >= T = 2^55: kept
    const low = new Uint8Array(16);
    low.fill(0xff, 0, 9); // high bytes do not count; R = 0 < T: not kept
    expect(s.keep(high)).toBe(true);
    expect(s.keep(low)).toBe(false);
    const half = new Uint8Array(16);
    half[9] = 0x80; // R = 2^55 = T: kept (R >= T)
    expect(s.keep(half)).toBe(true);
  });

  describe('trace_id_ratio mode agrees with the OpenTelemetry JS SDK TraceIdRatioBasedSampler', () => {
    const sdkKeeps = (ratio: number, id: Uint8Array) =>
      new TraceIdRatioBasedSampler(ratio).shouldSample(ROOT_CONTEXT, traceIdHex(id)).decision ===
      SamplingDecision.RECORD_AND_SAMPLED;
    const ours = (pct: number) =>
      new HeadSampler({ sampling_percentage: pct, mode: 'trace_id_ratio' });

    it('decision for decision, on random trace ids and percentages', () => {
      fc.assert(
        fc.property(traceIdArb, fc.double({ min: 0, max: 100, noNaN: true }), (id, pct) => {
          expect(ours(pct).keep(id)).toBe(sdkKeeps(pct / 100, id));
        }),
        { numRuns: 5_000 },
      );
    });

    it('at the edges: ratios 0 and 1, the invalid id, XOR sums on the bound', () => {
      // Ids whose words XOR to exactly the bound floor(r × 0xffffffff) and just around it.
      const withXor = (x: number) => {
        const id = new Uint8Array(16);
        id[3] = 1; // word 0 = 1, so the id is valid even when x = 1
        new DataView(id.buffer).setUint32(12, (x ^ 1) >>> 0);
        return id;
      };
      const pcts = [0, 1e-9, 0.001, 1, 12.5, 33.333, 50, 99.99, 99.9999999, 100];
      const zero = new Uint8Array(16);
      for (const pct of pcts) {
        const bound = pct >= 100 ? 0xffffffff : Math.floor((pct / 100) * 0xffffffff);
        const ids = [zero, withXor(0), withXor(1), withXor(0xffffffff)];
        for (const x of [bound - 1, bound, bound + 1])
          if (x >= 0 && x <= 0xffffffff) ids.push(withXor(x));
        for (const id of ids)
          expect([pct, ours(pct).keep(id)]).toEqual([pct, sdkKeeps(pct / 100, id)]);
      }
      expect(ours(100).keep(zero)).toBe(false);
      expect(ours(100).keepsAll).toBe(false);
    });

    it('is nested: a trace kept at a lower rate is kept at every higher rate', () => {
      fc.assert(
        fc.property(
          traceIdArb,
          fc.double({ min: 0, max: 100, noNaN: true }),
          fc.double({ min: 0, max: 100, noNaN: true }),
          (id, p1, p2) => {
            const [lo, hi] = p1 <= p2 ? [p1, p2] : [p2, p1];
            if (ours(lo).keep(id)) expect(ours(hi).keep(id)).toBe(true);
          },
        ),
      );
    });
  });

  it('hash_seed mode changes its choice with the seed', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => {
      const id = new Uint8Array(16);
      new DataView(id.buffer).setUint32(12, i * 2654435761);
      return id;
    });
    const a = new HeadSampler({ sampling_percentage: 50, hash_seed: 1 });
    const b = new HeadSampler({ sampling_percentage: 50, hash_seed: 2 });
    const differ = ids.filter((id) => a.keep(id) !== b.keep(id)).length;
    expect(differ).toBeGreaterThan(500);
  });
});

describe('validateHeadSamplingConfig', () => {
  it('accepts a valid config', () => {
    expect(validateHeadSamplingConfig({ sampling_percentage: 25, hash_seed: 7 })).toEqual({
      config: { sampling_percentage: 25, hash_seed: 7 },
      problems: [],
    });
  });

  it('reports every problem with its path', () => {
    const r = validateHeadSamplingConfig({
      sampling_percentage: 140,
      mode: 'sometimes',
      hash_seed: -1,
      extra: 1,
    });
    expect(r.config).toBeUndefined();
    expect(r.problems.map((p) => p.path).sort()).toEqual([
      'sampling.head.extra',
      'sampling.head.hash_seed',
      'sampling.head.mode',
      'sampling.head.sampling_percentage',
    ]);
  });

  it('accepts trace_id_ratio and refuses a hash_seed beside it', () => {
    expect(validateHeadSamplingConfig({ sampling_percentage: 5, mode: 'trace_id_ratio' })).toEqual({
      config: { sampling_percentage: 5, mode: 'trace_id_ratio' },
      problems: [],
    });
    expect(
      validateHeadSamplingConfig({ sampling_percentage: 5, mode: 'trace_id_ratio', hash_seed: 1 })
        .problems,
    ).toEqual([
      {
        path: 'sampling.head.hash_seed',
        message: 'is used only in hash_seed mode (trace_id_ratio mode reads the trace id directly)',
      },
    ]);
  });
});
