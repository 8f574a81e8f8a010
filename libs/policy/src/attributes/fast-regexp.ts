/**
 * A V8 RegExp for a tenant's RE2 pattern, when one provably matches exactly as RE2 does and
 * in linear time; otherwise null, and the caller keeps re2js (ARCHITECTURE.md, "Regex").
 *
 * Why: re2js costs ~2.5 µs per match even on a short URL (V8's RegExp: ~0.1 µs), which made an
 * `extract` action the largest single cost of a policy with attribute actions (issue #4).
 *
 * Which patterns: anchored at the start (`^`), ASCII, no alternation, no counted repetition,
 * no flags, and groups (capturing, named or not) without a quantifier of their own. Atoms are
 * literals, `.`, classes (`[a-z_]`, `[^/?]`, with ranges and `\d \w \s` inside) and the
 * escapes `\d \D \w \W \s \S`, `\t \n \r \f` and escaped punctuation; quantifiers `*`, `+`,
 * `?` (greedy); `$` only at the end. That covers the Collector's usual extract and key
 * patterns (`^https?://(?P<host>[^/]+)(?P<path>/[^?]*)`, `^internal\.`).
 *
 * Same matches: the RegExp runs with the `u` flag, so it works on code points as RE2 does, and
 * every atom is emitted as the exact set of code points RE2 gives it (`.` is "not \n", `\s` is
 * RE2's `[\t\n\f\r ]`, not JavaScript's Unicode spaces; `\d` and `\w` are ASCII in both).
 * Both engines are leftmost-first with greedy quantifiers, so they choose the same match and
 * the same submatches. A property test holds the two to the same results.
 *
 * Linear time: anchored, so there is one start position. Every quantified atom must match no
 * character that could come right after it (the atoms that follow, up to and including the
 * first one that must match at least once). Then each quantified atom's extent is forced: when
 * a later atom fails, giving back a character can only be followed by an immediate failure, so
 * backtracking costs O(1) per character given back, and the whole match O(length × atoms).
 * `^(a+)+$`, `^a*a*b`, `^\w+\d` and any unanchored pattern are refused.
 */

/** Code point ranges [lo, hi], sorted, disjoint. */
type CharSet = [number, number][];

const MAX = 0x10ffff;

function normalize(ranges: CharSet): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: CharSet = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: CharSet = [];
  let next = 0;
  for (const [lo, hi] of normalize(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX) out.push([next, MAX]);
  return out;
}

function intersects(a: CharSet, b: CharSet): boolean {
  for (const [alo, ahi] of a) for (const [blo, bhi] of b) if (alo <= bhi && blo <= ahi) return true;
  return false;
}

const c = (ch: string): number => ch.charCodeAt(0);
const DIGIT: CharSet = [[c('0'), c('9')]];
const WORD: CharSet = normalize([
  [c('0'), c('9')],
  [c('A'), c('Z')],
  [c('_'), c('_')],
  [c('a'), c('z')],
]);
/** RE2's \s: [\t\n\f\r ] (JavaScript's \s also has \v and Unicode spaces). */
const SPACE: CharSet = normalize([
  [9, 10],
  [12, 13],
  [32, 32],
]);
const ANY_BUT_NEWLINE: CharSet = [
  [0, 9],
  [11, MAX],
];

/** Characters that are syntax outside a class; an escaped one is itself. */
const PUNCTUATION = new Set('\\.+*?()|[]{}^$/-:#&~!@%=<>,;\'"`_ '.split(''));

interface Atom {
  kind: 'set';
  set: CharSet;
  quant: '' | '*' | '+' | '?';
}
interface Group {
  kind: 'group';
  /** null: non-capturing; '': numbered; otherwise the name. */
  name: string | null;
  items: Item[];
}
type Item = Atom | Group;

/**
 * The set of the escape `\e` (RE2's meaning), or null for one not read here. In a class
 * (`inClass`) only single characters and \d \w \s.
 */
function escapeSet(e: string | undefined, inClass: boolean): CharSet | null {
  switch (e) {
    case 'd':
      return DIGIT;
    case 'w':
      return WORD;
    case 's':
      return SPACE;
    case 'D':
    case 'W':
    case 'S':
      return inClass ? null : complement(e === 'D' ? DIGIT : e === 'W' ? WORD : SPACE);
    case 't':
      return [[9, 9]];
    case 'n':
      return [[10, 10]];
    case 'r':
      return [[13, 13]];
    case 'f':
      return [[12, 12]];
    default:
      return e !== undefined && PUNCTUATION.has(e) ? [[c(e), c(e)]] : null;
  }
}

class Refused extends Error {}

/** Parses the subset described above; throws Refused for anything else. */
class Parser {
  i = 0;
  constructor(private readonly p: string) {}

  seq(depth: number): Item[] {
    const items: Item[] = [];
    while (this.i < this.p.length) {
      const ch = this.p[this.i];
      if (ch === ')') {
        if (depth === 0) throw new Refused();
        return items;
      }
      if (ch === '$') {
        if (depth !== 0 || this.i !== this.p.length - 1) throw new Refused();
        return items;
      }
      if (ch === '|' || ch === '^' || ch === '{' || ch === '}') throw new Refused();
      if (ch === '*' || ch === '+' || ch === '?') throw new Refused(); // nothing to repeat
      if (ch === '(') {
        items.push(this.group(depth));
        const q = this.p[this.i];
        if (q === '*' || q === '+' || q === '?' || q === '{') throw new Refused();
        continue;
      }
      const set = ch === '[' ? this.cls() : ch === '\\' ? this.escape(false) : this.literal();
      let quant: Atom['quant'] = '';
      const q = this.p[this.i];
      if (q === '*' || q === '+' || q === '?') {
        quant = q;
        this.i++;
        const after = this.p[this.i];
        if (after === '*' || after === '+' || after === '?' || after === '{') throw new Refused(); // lazy or stacked quantifiers
      } else if (q === '{') throw new Refused();
      items.push({ kind: 'set', set, quant });
    }
    if (depth !== 0) throw new Refused();
    return items;
  }

  private group(depth: number): Group {
    this.i++; // (
    let name: string | null = '';
    if (this.p[this.i] === '?') {
      const rest = this.p.slice(this.i);
      const named = /^\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
      if (rest.startsWith('?:')) {
        name = null;
        this.i += 2;
      } else if (named) {
        name = named[1];
        this.i += named[0].length;
      } else throw new Refused(); // flags and anything else
    }
    const items = this.seq(depth + 1);
    if (this.p[this.i] !== ')') throw new Refused();
    this.i++;
    return { kind: 'group', name, items };
  }

  private literal(): CharSet {
    const ch = this.p[this.i++];
    if (ch === '.') return ANY_BUT_NEWLINE;
    const code = c(ch);
    if (code < 0x20 || code > 0x7e) throw new Refused();
    return [[code, code]];
  }

  /** After a backslash; inClass: inside [...] (only single characters and \d \w \s). */
  private escape(inClass: boolean): CharSet {
    const set = escapeSet(this.p[this.i + 1], inClass);
    this.i += 2;
    if (!set) throw new Refused(); // \b \A \z \x \p \Q \1 …
    return set;
  }

  /** A class at `i` ('['), up to and past its ']'. */
  cls(): CharSet {
    this.i++; // [
    let negated = false;
    if (this.p[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const ranges: CharSet = [];
    let first = true;
    while (this.i < this.p.length && (first || this.p[this.i] !== ']')) {
      first = false;
      const lo = this.classChar();
      if (lo.length !== 1 || lo[0][0] !== lo[0][1]) {
        ranges.push(...lo); // \d \w \s
        continue;
      }
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        this.i++;
        const hi = this.classChar();
        if (hi.length !== 1 || hi[0][0] !== hi[0][1] || hi[0][0] < lo[0][0]) throw new Refused();
        ranges.push([lo[0][0], hi[0][0]]);
      } else ranges.push(lo[0]);
    }
    if (this.p[this.i] !== ']') throw new Refused();
    this.i++;
    if (ranges.length === 0) throw new Refused();
    return negated ? complement(ranges) : normalize(ranges);
  }

  private classChar(): CharSet {
    const ch = this.p[this.i];
    if (ch === '\\') return this.escape(true);
    if (ch === '[' || ch === ']') throw new Refused(); // POSIX classes, a leading ']'
    const code = c(ch);
    if (code < 0x20 || code > 0x7e) throw new Refused();
    this.i++;
    return [[code, code]];
  }
}

function flatten(items: Item[], out: Atom[] = []): Atom[] {
  for (const it of items) {
    if (it.kind === 'set') out.push(it);
    else flatten(it.items, out);
  }
  return out;
}

/** Every quantified atom is disjoint from what may follow it (see the file comment). */
function forced(atoms: Atom[]): boolean {
  for (let i = 0; i < atoms.length; i++) {
    if (atoms[i].quant === '') continue;
    for (let j = i + 1; j < atoms.length; j++) {
      if (intersects(atoms[i].set, atoms[j].set)) return false;
      if (atoms[j].quant === '' || atoms[j].quant === '+') break;
    }
  }
  return true;
}

function hex(n: number): string {
  return `\\u{${n.toString(16)}}`;
}

function emitSet(set: CharSet): string {
  if (set.length === 1 && set[0][0] === set[0][1]) return hex(set[0][0]);
  return `[${set.map(([lo, hi]) => (lo === hi ? hex(lo) : `${hex(lo)}-${hex(hi)}`)).join('')}]`;
}

function emit(items: Item[]): string {
  let out = '';
  for (const it of items) {
    if (it.kind === 'set') out += emitSet(it.set) + it.quant;
    else {
      const open = it.name === null ? '(?:' : it.name === '' ? '(' : `(?<${it.name}>`;
      out += open + emit(it.items) + ')';
    }
  }
  return out;
}

/**
 * A RegExp matching as the RE2 `pattern` does, in linear time, or null when that is not
 * proven (see the file comment). `exec` answers the same match and submatches as re2js's.
 */
export function fastRegExp(pattern: string): RegExp | null {
  const a = accepted(pattern);
  if (a === null) return null;
  try {
    return new RegExp(`^${emit(a.items)}${a.end ? '$' : ''}`, 'u');
  } catch (err) {
    if (err instanceof SyntaxError) return null;
    throw err;
  }
}

/**
 * The pattern parsed, when it is in fastRegExp's subset and every quantified atom is forced;
 * `end`: it ends with `$`. Otherwise null.
 */
function accepted(pattern: string): { items: Item[]; end: boolean } | null {
  if (!pattern.startsWith('^')) return null;
  try {
    const parser = new Parser(pattern);
    parser.i = 1;
    const items = parser.seq(0);
    const end = pattern.endsWith('$') && parser.i === pattern.length - 1;
    if (!end && parser.i !== pattern.length) return null;
    return forced(flatten(items)) ? { items, end } : null;
  } catch (err) {
    if (err instanceof Refused) return null;
    throw err;
  }
}

/**
 * The literal text every match of an anchored pattern that fastRegExp accepts starts with (its
 * leading unrepeated single characters, through unrepeated groups), and whether that text is
 * the whole pattern (no `$`): then "matches" is "starts with". Null when fastRegExp refuses
 * the pattern. `^internal\.` gives { prefix: 'internal.', whole: true }.
 */
export function anchoredPrefix(pattern: string): { prefix: string; whole: boolean } | null {
  const a = fastRegExp(pattern) === null ? null : accepted(pattern);
  if (a === null) return null;
  const atoms = flatten(a.items);
  let prefix = '';
  let n = 0;
  for (const a of atoms) {
    if (a.quant !== '' || a.set.length !== 1 || a.set[0][0] !== a.set[0][1]) break;
    prefix += String.fromCharCode(a.set[0][0]);
    n++;
  }
  return { prefix, whole: n === atoms.length && !pattern.endsWith('$') };
}

/**
 * The characters an RE2 pattern can match, as a superset: `ascii[c]` for c < 128, and
 * `nonAscii` for every code unit from 128 up (any non-ASCII character in the pattern's sets).
 */
export interface PatternChars {
  ascii: Uint8Array;
  nonAscii: boolean;
}

/**
 * Every character any match of the RE2 `pattern` can contain (a superset), or null when the
 * pattern has a zero-width assertion (`^ $ \b \B \A \z`: a match would then depend on the
 * characters around it), flags, or syntax not read here.
 *
 * For windowed matching (compile.ts): a match never contains a character outside the set, so
 * around each occurrence of a literal every match contains, the maximal run of characters in
 * the set holds every match that contains that occurrence; and without assertions, RE2 finds
 * in that run exactly the matches it finds there in the whole text (nothing before the run can
 * start a match that reaches into it, nothing after it can extend one).
 */
export function patternCharset(pattern: string): PatternChars | null {
  const ranges: CharSet = [];
  let nonAscii = false;
  const add = (set: CharSet): void => {
    for (const r of set) {
      if (r[1] >= 128) nonAscii = true;
      if (r[0] < 128) ranges.push([r[0], Math.min(r[1], 127)]);
    }
  };
  let i = 0;
  const p = pattern;
  const n = p.length;
  while (i < n) {
    const ch = p[i];
    if (ch === '^' || ch === '$') return null;
    if (ch === '(') {
      if (p[i + 1] === '?') {
        const named = /^\(\?P?<[A-Za-z_][A-Za-z0-9_]*>/.exec(p.slice(i));
        if (p.startsWith('(?:', i)) i += 3;
        else if (named) i += named[0].length;
        else return null; // flags
      } else i++;
      continue;
    }
    if (ch === ')' || ch === '|' || ch === '*' || ch === '+' || ch === '?') {
      i++;
      continue;
    }
    if (ch === '{') {
      const q = /^\{\d+(,\d*)?\}/.exec(p.slice(i));
      if (!q) return null;
      i += q[0].length;
      continue;
    }
    if (ch === '\\') {
      const set = escapeSet(p[i + 1], false);
      if (!set) return null;
      add(set);
      i += 2;
      continue;
    }
    if (ch === '[') {
      // the same reading of a class as fastRegExp's (ASCII members, \d \w \s inside)
      const parser = new Parser(p);
      parser.i = i;
      try {
        add(parser.cls());
      } catch (err) {
        if (err instanceof Refused) return null;
        throw err;
      }
      i = parser.i;
      continue;
    }
    add(ch === '.' ? ANY_BUT_NEWLINE : [[p.charCodeAt(i), p.charCodeAt(i)]]);
    i++;
  }
  const ascii = new Uint8Array(128);
  for (const [lo, hi] of ranges) for (let k = lo; k <= hi; k++) ascii[k] = 1;
  return { ascii, nonAscii };
}
