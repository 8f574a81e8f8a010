/**
 * A readable, diffable JSON form of model values for golden files (test support only): bigint
 * becomes "123n", bytes become "hex:…", non-finite and negative-zero doubles become strings, so
 * a golden file pins every value exactly and a reviewer can read it.
 */
export function toGoldenJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return `${v}n`;
      if (v instanceof Uint8Array) return `hex:${Buffer.from(v).toString('hex')}`;
      if (typeof v === 'number' && (!Number.isFinite(v) || Object.is(v, -0)))
        return `num:${v === 0 ? '-0' : v}`;
      return v;
    },
    2,
  );
}
