/**
 * Diff of two normalized policy documents (issue #6 item 3, "diff two versions"), in two forms:
 *
 * - structured: one entry per leaf that differs, with the path in the policy's own notation
 *   (`sampling.tail.policies[2].latency.threshold_ms`, as validation problems use) and the
 *   JSON of the value before and after. Lists are compared position by position because order
 *   is meaningful in a policy (attribute actions run in order, tail policies are listed in
 *   order); a list that grew or shrank yields `added` / `removed` entries for the tail.
 * - unified: a line diff (`---`/`+++`/`@@` hunks, 3 lines of context) of the canonical JSON
 *   pretty-printed with sorted keys, so the text is stable whatever order the author wrote.
 *
 * Both compare the normalized documents, so two versions that differ only in formatting, key
 * order or spelled-out defaults show no difference (they also share a checksum).
 */

export interface PolicyDiffEntry {
  path: string;
  change: 'added' | 'removed' | 'changed';
  /** JSON of the value before (absent for `added`). */
  before?: string;
  /** JSON of the value after (absent for `removed`). */
  after?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function join(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** JSON with object keys sorted (recursively), pretty-printed with two spaces. */
export function sortedJson(value: unknown, indent = 2): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (isObject(v)) {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = sort(v[k]);
      return out;
    }
    return v;
  };
  return JSON.stringify(sort(value), null, indent) ?? 'null';
}

const compact = (v: unknown) => sortedJson(v, 0);

/** The leaves that differ between `before` and `after`. */
export function structuredDiff(before: unknown, after: unknown, path = ''): PolicyDiffEntry[] {
  const out: PolicyDiffEntry[] = [];
  walk(before, after, path, out);
  return out;
}

function walk(a: unknown, b: unknown, path: string, out: PolicyDiffEntry[]): void {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) {
      const inA = a[k] !== undefined;
      const inB = b[k] !== undefined;
      if (inA && !inB) out.push({ path: join(path, k), change: 'removed', before: compact(a[k]) });
      else if (!inA && inB)
        out.push({ path: join(path, k), change: 'added', after: compact(b[k]) });
      else if (inA && inB) walk(a[k], b[k], join(path, k), out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= b.length)
        out.push({ path: join(path, i), change: 'removed', before: compact(a[i]) });
      else if (i >= a.length)
        out.push({ path: join(path, i), change: 'added', after: compact(b[i]) });
      else walk(a[i], b[i], join(path, i), out);
    }
    return;
  }
  const ca = compact(a);
  const cb = compact(b);
  if (ca !== cb) out.push({ path, change: 'changed', before: ca, after: cb });
}

type Op = { kind: ' ' | '-' | '+'; line: string; aLine: number; bLine: number };

/** Line edit script by longest common subsequence (documents are small: hundreds of lines). */
function editScript(a: string[], b: string[]): Op[] {
  // Common prefix and suffix first: most policy edits touch a few lines.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (
    suf < a.length - pre &&
    suf < b.length - pre &&
    a[a.length - 1 - suf] === b[b.length - 1 - suf]
  )
    suf++;
  const am = a.slice(pre, a.length - suf);
  const bm = b.slice(pre, b.length - suf);
  const ops: Op[] = [];
  for (let i = 0; i < pre; i++) ops.push({ kind: ' ', line: a[i], aLine: i, bLine: i });
  const n = am.length;
  const m = bm.length;
  if (n * m > 4_000_000) {
    // Too large for the table: everything in the middle changed, shown as remove + add.
    am.forEach((line, i) => ops.push({ kind: '-', line, aLine: pre + i, bLine: pre }));
    bm.forEach((line, j) => ops.push({ kind: '+', line, aLine: pre + n, bLine: pre + j }));
  } else {
    const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i][j] =
          am[i] === bm[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        ops.push({ kind: ' ', line: am[i], aLine: pre + i, bLine: pre + j });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        // Removals before additions, as diff(1) prints them.
        ops.push({ kind: '-', line: am[i], aLine: pre + i, bLine: pre + j });
        i++;
      } else {
        ops.push({ kind: '+', line: bm[j], aLine: pre + i, bLine: pre + j });
        j++;
      }
    }
  }
  for (let k = 0; k < suf; k++) {
    const ai = a.length - suf + k;
    const bi = b.length - suf + k;
    ops.push({ kind: ' ', line: a[ai], aLine: ai, bLine: bi });
  }
  return ops;
}

/** A unified diff of two texts; '' when they are equal. */
export function unifiedDiff(
  aText: string,
  bText: string,
  aName: string,
  bName: string,
  context = 3,
): string {
  if (aText === bText) return '';
  const a = aText.split('\n');
  const b = bText.split('\n');
  const ops = editScript(a, b);
  const out = [`--- ${aName}`, `+++ ${bName}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].kind === ' ') {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last
    // change that is within 2*context lines of the previous one.
    const start = Math.max(0, k - context);
    let end = k;
    let lastChange = k;
    while (end < ops.length) {
      if (ops[end].kind !== ' ') lastChange = end;
      else if (end - lastChange > 2 * context) break;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    const aStart = aCount === 0 ? hunk[0].aLine : hunk[0].aLine + 1;
    const bStart = bCount === 0 ? hunk[0].bLine : hunk[0].bLine + 1;
    out.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = end;
  }
  return out.join('\n') + '\n';
}
