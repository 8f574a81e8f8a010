/**
 * Tenant-supplied regular expressions run with RE2 semantics (linear time, no backtracking),
 * so no policy can stall a worker with a catastrophic pattern (ARCHITECTURE.md, "Regex").
 * re2js refuses backreferences and lookarounds at compile time; we turn its exception into a
 * policy problem that says why. Matching is unanchored, like Go's regexp.MatchString that the
 * Collector uses for `pattern`, `enabled_regex_matching` and `match_type: regexp`.
 */
import { RE2JS } from 're2js';
import { anchoredPrefix, fastRegExp } from './fast-regexp';

export type Re2 = RE2JS;

export type Re2Result = { ok: true; re: RE2JS } | { ok: false; message: string };

export function compileRe2(pattern: string): Re2Result {
  try {
    return { ok: true, re: RE2JS.compile(pattern) };
  } catch (err: unknown) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      message:
        `invalid regular expression ${JSON.stringify(pattern)}: ${detail} ` +
        '(RE2 syntax: linear-time matching, no backreferences or lookaround)',
    };
  }
}

/**
 * Memoizes an RE2 test on a small, repetitive domain (attribute keys, service names), where
 * re2js's per-call cost would otherwise dominate. The memo is bounded: past `max` entries
 * it is cleared rather than grown.
 */
export class MemoizedRe2 {
  private readonly memo = new Map<string, boolean>();
  /** The same test in V8's RegExp, where fastRegExp proves it equal (then nothing is memoized). */
  private readonly fast: RegExp | null;
  /** What every match of `fast` starts with (anchoredPrefix), and whether that is all of it. */
  private readonly prefix: string;
  private readonly prefixOnly: boolean;
  /** The prefix's first character code, or -1 (no prefix): one compare rejects most keys. */
  private readonly first: number;

  constructor(
    readonly re: RE2JS,
    private readonly max = 4096,
  ) {
    this.fast = fastRegExp(re.pattern());
    const lead = anchoredPrefix(re.pattern());
    this.prefix = lead?.prefix ?? '';
    this.prefixOnly = lead?.whole ?? false;
    this.first = this.prefix === '' ? -1 : this.prefix.charCodeAt(0);
  }

  test(input: string): boolean {
    if (this.fast !== null) {
      // most keys a key pattern sees fail its literal start: startsWith costs half a RegExp run
      if (this.first !== -1 && input.charCodeAt(0) !== this.first) return false;
      if (!input.startsWith(this.prefix)) return false;
      return this.prefixOnly || this.fast.test(input);
    }
    const hit = this.memo.get(input);
    if (hit !== undefined) return hit;
    const result = this.re.test(input);
    if (this.memo.size >= this.max) this.memo.clear();
    this.memo.set(input, result);
    return result;
  }
}
