/**
 * The prefilter in front of the built-in detectors (issue #4): one pass over a string that lists
 * the positions where a detector's match could START. The combined pattern then runs sticky (`y`)
 * at those positions only, instead of being tried at every position (V8 spends ~17 ns per
 * character on the 28-way alternation).
 *
 * The pass has two halves: a character loop that classifies every character from tables (which
 * characters raise an event, where a run of token characters reaches MIN_TOKEN), and the checks
 * at those few positions (event, longRun), which read the string around them. For strings of
 * UNITS_MIN characters or more the loop runs in WebAssembly SIMD, 16 characters per step
 * (prefilter.wat; ~0.5 ns per character with the copy in, against ~3.7 for the JavaScript loop
 * on the bench's prompts), and answers the positions; the checks stay here, identical for both. The JavaScript
 * loops remain for short strings (a call into WebAssembly costs more than they do) and where
 * WebAssembly SIMD is unavailable; prefilter.spec.ts holds the two to the same positions.
 *
 * Contract — conservative by construction: every position where ANY enabled alternative of the
 * combined pattern could match is listed (false candidates are fine, they cost one sticky
 * attempt). Then "sticky at each candidate, in order" visits the same matches as the full
 * global scan, because the global scan's next match is the leftmost position where the
 * alternation matches, and that position is a candidate. detectors.spec.ts proves it with
 * fast-check against the full scan (`BuiltinScanner.scanFull`), detector by detector.
 *
 * How each detector's start is found (see ALTERNATIVES in detectors.ts):
 * - provider tokens, JWT, AWS key ids, …: every one begins with a letter after a
 *   non-alphanumeric character, with one of the providers' prefixes (TOKEN_PREFIXES), and has
 *   ≥ 15 characters of [A-Za-z0-9_.+/=-] from its start (the shortest, Slack's `xoxb-` + 10).
 *   Candidates: such word starts inside a run of those characters that is ≥ 15 long — prose
 *   words rarely are.
 * - email: the start of the local-part run before each '@'.
 * - url_credentials: '://' followed by `user:password@` characters up to an '@'; Slack
 *   webhooks: `https://hooks.slack.com/`.
 * - private_key: '-----BEGIN'.
 * - bearer / basic: the whitespace after the word `bearer` (any case) / `[Bb]asic`.
 * - secret_assignment, aws_secret_access_key: the ':' or '=' of `key = value`; the key before
 *   it must contain pass|pwd|secret|key|credential|authorization|token|cookie (every keyword
 *   form does, case-insensitively); candidates: the 8 positions before each such core.
 * - azure_key: `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=`, `sig=`, and `\dQ~`.
 * - payment_card, us_ssn, national phones, IPv4: the start of each digit run in a "digit
 *   cluster" (digits joined by single ' ', '-' or '.') holding ≥ 9 digits (the fewest any of
 *   them accepts) or ≥ 3 dots (a dotted quad); IBAN: two capitals before such a run.
 * - international phones: '+' before [1-9]; bracketed area codes: '(' before a digit.
 * - IPv6: at each ':' followed by a hex digit or ':', the 1–4 hex digits before it, or '::'.
 * Non-ASCII characters start nothing: every detector begins with an ASCII character.
 */

import { Buffer } from 'node:buffer';
import { PREFILTER_WASM } from './prefilter-wasm';

// character classes, bit flags per ASCII code
const ALNUM = 1;
const DIGIT = 2;
const UPPER = 4;
const HEX = 8;
/** \w = [A-Za-z0-9_] */
const WORD = 16;
/** key-name characters of secret assignments: [A-Za-z0-9_.-] */
const KEYCH = 32;
/** email local part: [A-Za-z0-9._%+'-] (with the underscore) */
const LOCAL = 64;
/** token characters: [A-Za-z0-9_.+/=-] */
const TOKEN = 128;
/** ends URL userinfo: ASCII whitespace and /?#"'<>[] */
const URL_STOP = 256;

const CHARS = new Uint16Array(128);
{
  const set = (chars: string, bit: number): void => {
    for (let k = 0; k < chars.length; k++) CHARS[chars.charCodeAt(k)] |= bit;
  };
  const range = (from: string, to: string, bit: number): void => {
    for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) CHARS[c] |= bit;
  };
  for (const [a, b] of [
    ['a', 'z'],
    ['A', 'Z'],
    ['0', '9'],
  ])
    range(a, b, ALNUM | WORD | KEYCH | LOCAL | TOKEN);
  range('0', '9', DIGIT | HEX);
  range('A', 'Z', UPPER);
  range('a', 'f', HEX);
  range('A', 'F', HEX);
  set('_', WORD | KEYCH | LOCAL | TOKEN);
  set('.', KEYCH | LOCAL | TOKEN);
  set('-', KEYCH | LOCAL | TOKEN);
  set("%'", LOCAL);
  set('+', LOCAL | TOKEN);
  set('/=', TOKEN);
  set(' \t\n\r\v\f/?#"\'<>[]', URL_STOP);
}

/*
 * The main loop's tables, indexed by character code (index 128 stands for every non-ASCII
 * character). Bookkeeping is branch-free (table lookups and masks): a branch per space or
 * letter would mispredict on prose and cost more than the rest of the loop.
 */
const NA = 128;
/** -1 for token characters (the run of them continues), 0 otherwise (it breaks). */
const KEEP = new Int32Array(NA + 1);
/** Events a character may raise, masked by AFTER[previous character]. */
const EVENT = new Uint8Array(NA + 1);
/**
 * E_DIGIT only at the start of a digit run; E_DASH only for a dash after a dash; E_SPACE only
 * for a space or tab after r/R or c/C (`bearer `, `basic `: event() checks the whole word).
 */
const AFTER = new Uint8Array(NA + 1);
const E_DIGIT = 1;
const E_SPACE = 2;
const E_PUNCT = 4;
const E_DASH = 8;
/** '[' and '{': no detector starts there; counted for compile.ts's JSON depth bound. */
const E_BRACKET = 16;
{
  for (let c = 0; c < NA; c++) {
    KEEP[c] = CHARS[c] & TOKEN ? -1 : 0;
    AFTER[c] = 255 & ~E_DASH & ~E_SPACE & ~(CHARS[c] & DIGIT ? E_DIGIT : 0);
    if (CHARS[c] & DIGIT) EVENT[c] = E_DIGIT;
  }
  AFTER[NA] = 255 & ~E_DASH & ~E_SPACE;
  AFTER[45] |= E_DASH;
  for (const ch of 'rRcC') AFTER[ch.charCodeAt(0)] |= E_SPACE;
  EVENT[45] = E_DASH;
  for (const ch of '@:=~+(') EVENT[ch.charCodeAt(0)] = E_PUNCT;
  EVENT[91] = E_BRACKET;
  EVENT[123] = E_BRACKET;
  EVENT[32] = E_SPACE;
  EVENT[9] = E_SPACE;
}

/**
 * The three tables in one word per character, so the main loop loads one entry per character
 * instead of three: bits 0–7 EVENT, bits 8–15 AFTER, bit 31 KEEP (so `t >> 31` is KEEP's -1 or
 * 0). The loop keeps `t >>> 8` of the previous character: its AFTER bits land on bits 0–7, and
 * nothing else of it meets a set bit of the next character's word (bits 8–30 of `t >>> 8` are
 * AFTER's zeros and KEEP at bit 23, where no character's word has a bit).
 */
const PACKED = new Int32Array(NA + 1);
for (let c = 0; c <= NA; c++) PACKED[c] = EVENT[c] | (AFTER[c] << 8) | (KEEP[c] & (1 << 31));
const AFTER_START = PACKED[NA] >>> 8;

/**
 * The first two characters of every token detector's match (ALTERNATIVES in detectors.ts).
 * A new token detector must add its prefix here: detectors.spec.ts finds each positive example
 * through the prefilter, so a missing prefix fails there.
 */
const TOKEN_PREFIXES = [
  // JWT, GCP OAuth, OpenAI / Anthropic / Stripe / OpenRouter, GitHub, GitLab, Slack, xAI,
  // Stripe restricted and webhook, Hugging Face, Groq, Replicate, Perplexity, Custodian
  ...['ey', 'ya', 'sk', 'gh', 'gi', 'gl', 'xo', 'xa', 'rk', 'wh', 'hf', 'gs', 'r8', 'pp', 'cu'],
  // npm, PyPI, SendGrid, Twilio, Mailgun, Shopify, DigitalOcean, Linear, Notion, Atlassian,
  // New Relic, Doppler, Postman, Databricks, Pulumi
  ...['np', 'py', 'SG', 'SK', 'ke', 'sh', 'do', 'li', 'nt', 'se', 'AT', 'NR', 'dp', 'PM', 'da'],
  'pu',
];
const TOKEN_START = new Uint8Array(NA * NA);
{
  for (const p of TOKEN_PREFIXES) TOKEN_START[p.charCodeAt(0) * NA + p.charCodeAt(1)] = 1;
  // AWS key ids (AKIA, ASIA, A3T…) and Google API keys (AIza): any 'A'
  for (let c = 0; c < NA; c++) TOKEN_START[65 * NA + c] = 1;
}

/** Strings from this long to this long are scanned over a copy of their code units. */
const UNITS_MIN = 48;
const UNITS_MAX = 1 << 20;

/** The first two letters (lower case) of each secret keyword core (see coreAt). */
const CORE_PAIR = new Uint8Array(NA * NA);
for (const w of ['pa', 'pw', 'se', 'ke', 'cr', 'co', 'au', 'to'])
  CORE_PAIR[w.charCodeAt(0) * NA + w.charCodeAt(1)] = 1;

/** Shortest token detector match, in token characters (Slack `xoxb-` + 10). */
const MIN_TOKEN = 15;
/** Longest secret key: keyword (≤ 13) + suffix (≤ 41). */
const MAX_KEY = 54;
/** Farthest a keyword's core (e.g. `token` in `session_token`) sits from the keyword start. */
const MAX_CORE_OFFSET = 8;

/**
 * The character code at i, or -1 outside the string. Reading past either end with charCodeAt
 * answers NaN but deoptimizes V8's optimized code ("out of bounds") into a much slower path.
 */
function at(s: string, i: number): number {
  return i >= 0 && i < s.length ? s.charCodeAt(i) : -1;
}

function cls(s: string, i: number): number {
  const c = at(s, i);
  return c >= 0 && c < 128 ? CHARS[c] : 0;
}

/** Lower-cased letter at i (other characters map to values no letter compares equal to). */
function lower(s: string, i: number): number {
  return at(s, i) | 32;
}

/** Does the lower-case `word` start at p (case-insensitive) and end by `end`? */
function wordAt(s: string, p: number, end: number, word: string): boolean {
  if (p + word.length > end) return false;
  for (let k = 1; k < word.length; k++) if (lower(s, p + k) !== word.charCodeAt(k)) return false;
  return true;
}

/** Does a secret keyword core (case-insensitive) start at p and end by `end`? */
function coreAt(s: string, p: number, end: number): boolean {
  switch (lower(s, p)) {
    case 112: // p
      return wordAt(s, p, end, 'pass') || wordAt(s, p, end, 'pwd');
    case 115: // s
      return wordAt(s, p, end, 'secret');
    case 107: // k
      return wordAt(s, p, end, 'key');
    case 99: // c
      return wordAt(s, p, end, 'credential') || wordAt(s, p, end, 'cookie');
    case 97: // a
      return wordAt(s, p, end, 'authorization');
    case 116: // t
      return wordAt(s, p, end, 'token');
    default:
      return false;
  }
}

/**
 * Digits from `p` joined by single separators (`seps`: bit 1 ' ', 2 '-', 4 '.'), counting at
 * most `cap` digits.
 */
function digitsFrom(s: string, p: number, seps: number, cap: number): number {
  let digits = 0;
  let j = p;
  while (digits < cap) {
    const c = at(s, j);
    if (c >= 48 && c <= 57) {
      digits++;
      j++;
      continue;
    }
    const sep = c === 32 ? 1 : c === 45 ? 2 : c === 46 ? 4 : 0;
    if (sep & seps && cls(s, j + 1) & DIGIT) {
      j++;
      continue;
    }
    break;
  }
  return digits;
}

/**
 * A digit run starting at p (`c` its first digit): can a card, SSN, national phone or IPv4
 * start here? Each needs a shape the run's first group and the digits after it must allow:
 * - payment_card: first digit 2–6, ≥ 13 digits joined by single ' ' or '-';
 * - us_ssn and phones `ddd[.- ]ddd…`: a first group of 3 digits and ≥ 9 digits in all;
 * - phones `0d{2,4} …`, `0[1-9] dd dd dd dd`: a first group of 2–5 digits starting with 0;
 * - ipv4: a first group of ≤ 3 digits and three dots.
 * The counts are capped, so the work per run is bounded (no quadratic walks on long clusters).
 */
function digitRunMayMatch(s: string, p: number, c: number): boolean {
  let g = 1;
  while (g < 6 && cls(s, p + g) & DIGIT) g++;
  if (c >= 50 && c <= 54 && digitsFrom(s, p, 3, 13) >= 13) return true;
  if ((g === 3 || (c === 48 && g >= 2 && g <= 5)) && digitsFrom(s, p, 7, 9) >= 9) return true;
  if (g <= 3 && at(s, p + g) === 46) {
    // d{1,3}(.d{1,3}){3}
    let j = p + g;
    for (let dot = 0; dot < 3; dot++) {
      if (at(s, j) !== 46) return false;
      let k = 0;
      while (k < 4 && cls(s, j + 1 + k) & DIGIT) k++;
      if (k === 0 || k > 3) return false;
      j += 1 + k;
    }
    return true;
  }
  return false;
}

/**
 * url_credentials after '://' at `from`: `user:password@` — characters other than
 * [\s/?#@"'<>[\]] (at most 256 + 1 + 256 of them) up to an '@'.
 */
function userinfoAt(s: string, from: number): boolean {
  const end = Math.min(s.length, from + 514);
  for (let j = from; j < end; j++) {
    const c = at(s, j);
    if (c === 64) return j > from;
    if (c < NA && CHARS[c] & URL_STOP) return false;
    if (c > 127 && /\s/.test(s[j])) return false;
  }
  return false;
}

/** Is the separator at i preceded (after spaces and tabs) by a '"'? */
function quotedSeparator(s: string, i: number): boolean {
  let j = i - 1;
  while (at(s, j) === 32 || at(s, j) === 9) j--;
  return at(s, j) === 34;
}

/**
 * The digit run starting at p: 16 digits or more, or followed by an exponent (`1e9`, `2.5E+15`:
 * the run before the exponent is the last one before it).
 */
function numberHazardAt(s: string, p: number): boolean {
  let j = p;
  while (cls(s, j) & DIGIT) j++;
  if (j - p >= 16) return true;
  if ((at(s, j) | 32) !== 101 /* e */) return false;
  let k = j + 1;
  if (at(s, k) === 43 || at(s, k) === 45) k++;
  return (cls(s, k) & DIGIT) !== 0;
}

/** The IPv6 lookbehind class [\w:.]. */
function ipv6Before(s: string, i: number): boolean {
  const c = at(s, i);
  return c === 58 || c === 46 || (c < 128 && (CHARS[c] & WORD) !== 0);
}

/** The members of the WebAssembly JS API used here (this project's lib has no DOM types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
};

/**
 * Byte offset of the UTF-16 input in the scanner's memory; the unit before it stays 0 (NUL, a
 * character like any non-ASCII one to the tables: it starts nothing and ends any run).
 */
const WASM_INPUT = 16;

/** prefilter.wat, instantiated once per process (find() is synchronous: one user at a time). */
class WasmScanner {
  private readonly scan: (len: number, out: number) => number;
  private readonly memory: WasmMemory;
  private readonly levelsOut: { value: number };
  private bytes: Buffer;
  words: Int32Array;
  /** After run(): the index in `words` of the first hit. */
  hitsAt = 0;

  constructor(instance: { exports: Record<string, unknown> }) {
    const exports = instance.exports as {
      scan: (len: number, out: number) => number;
      memory: WasmMemory;
      levels: { value: number };
    };
    this.scan = exports.scan;
    this.memory = exports.memory;
    this.levelsOut = exports.levels;
    this.bytes = Buffer.alloc(0);
    this.words = new Int32Array(0);
    this.views();
  }

  /**
   * Runs the pass over `s`: answers the number of hits, which are `words[hitsAt, hitsAt + n)`.
   * The memory holds the input, two zero units after it (what the pass reads as the characters
   * after its end) and the rest of the 48 bytes its last loads may read past the input, then
   * room for one hit per unit; it grows to the longest string seen.
   */
  run(s: string): number {
    const len = s.length;
    const out = (WASM_INPUT + 2 * len + 48 + 15) & ~15;
    const need = out + 4 * len;
    if (need > this.bytes.length) {
      this.memory.grow(Math.ceil((need - this.bytes.length) / 65536));
      this.views();
    }
    const end = this.bytes.write(s, WASM_INPUT, 'utf16le') + WASM_INPUT;
    const b = this.bytes;
    b[end] = b[end + 1] = b[end + 2] = b[end + 3] = 0;
    this.hitsAt = out >> 2;
    return this.scan(len, out);
  }

  /** After run(): the nesting levels of the brackets the pass counted instead of listing. */
  levels(): number {
    return this.levelsOut.value;
  }

  private views(): void {
    const buf = this.memory.buffer;
    this.bytes = Buffer.from(buf);
    this.words = new Int32Array(buf);
  }
}

let wasm: WasmScanner | null | undefined;

/** The shared scanner, or null where WebAssembly SIMD is unavailable. */
function wasmScanner(): WasmScanner | null {
  if (wasm === undefined) {
    try {
      const bytes = Buffer.from(PREFILTER_WASM, 'base64');
      wasm = new WasmScanner(new WebAssembly.Instance(new WebAssembly.Module(bytes)));
    } catch {
      wasm = null;
    }
  }
  return wasm;
}

/**
 * Does an event the main loop raises at i (EVENT bits ev) reach event() from the
 * WebAssembly pass? It leaves out events where event() can only find nothing:
 * - a digit run's first digit with neither another digit nor a separator (' ', '-', '.') and a
 *   digit after it, nor an exponent's 'e' (numberHazardAt), nor two capitals before (IBAN):
 *   every number digitRunMayMatch accepts has ≥ 2 digits or a dot and a digit;
 * - a space or tab that does not end "rer" (any case) or "sic": `bearer ` and `[Bb]asic `;
 * - '[' and '{' not after a space: the pass counts their levels itself (2 after a '"', else 1).
 * Characters outside the string read as NUL, which is none of those.
 */
function keepsEvent(s: string, i: number, ev: number): boolean {
  if (ev === E_DIGIT) {
    const n1 = at(s, i + 1);
    return (
      (cls(s, i + 1) & DIGIT) !== 0 ||
      ((n1 === 32 || n1 === 45 || n1 === 46) && (cls(s, i + 2) & DIGIT) !== 0) ||
      (n1 | 32) === 101 ||
      (cls(s, i - 1) & UPPER && cls(s, i - 2) & UPPER) !== 0
    );
  }
  if (ev === E_SPACE)
    return (
      (lower(s, i - 1) === 114 && lower(s, i - 2) === 101 && lower(s, i - 3) === 114) ||
      (at(s, i - 1) === 99 && at(s, i - 2) === 105 && at(s, i - 3) === 115)
    );
  if (ev === E_BRACKET) return at(s, i - 1) === 32;
  return true;
}

/**
 * The hits of the character pass over `s` (position << 2 | 2 for event, | 1 for a run reaching
 * MIN_TOKEN): from prefilter.wat with `simd`, else from the JavaScript loop's own tables and
 * rules, with keepsEvent's. The two must agree on every string (prefilter.spec.ts).
 */
export function passHits(s: string, simd: boolean): number[] {
  const hits: number[] = [];
  const w = simd ? wasmScanner() : null;
  if (w) {
    const n = w.run(s);
    for (let k = w.hitsAt; k < w.hitsAt + n; k++) hits.push(w.words[k]);
    return hits;
  }
  let run = 0;
  let after = AFTER_START;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const t = PACKED[c < NA ? c : NA];
    const ev = t & after;
    after = t >>> 8;
    run = (run + 1) & (t >> 31);
    const hit = (run === MIN_TOKEN ? 1 : 0) | (ev !== 0 && keepsEvent(s, i, ev) ? 2 : 0);
    if (hit) hits.push((i << 2) | hit);
  }
  return hits;
}

/** Does the prefilter's pass run as WebAssembly SIMD here (else as JavaScript, same results)? */
export function simdPrefilterAvailable(): boolean {
  return wasmScanner() !== null;
}

/**
 * Finds candidate start positions; reused across calls (not re-entrant). After `find`,
 * `positions[0, count)` holds them in ascending order, possibly with duplicates.
 */
export class CandidateFinder {
  /** `simd: false` keeps to the JavaScript loops (the reference the WebAssembly pass is tested against). */
  constructor(private readonly simd = true) {}

  positions = new Int32Array(64);
  count = 0;
  /**
   * Facts about `s` read as JSON text, gathered on the way for compile.ts's decision to leave a
   * JSON string unparsed (the only ':' and digit characters it needs are events anyway):
   * - `structural`: candidates listed only because of a `"key":` in the JSON syntax (the
   *   secret_assignment check at a ':' right after a '"'); a string token on its own never
   *   produces them (without backslash escapes a token holds no '"');
   * - `keyQuotes[0, keyCount)`: the closing quote of every `"…"` followed by optional JSON
   *   whitespace and ':' — every object key of the JSON text, and a few false ones;
   * - `numberHazard`: a digit run of 16 or more digits, or one followed by an exponent: JSON.parse
   *   may turn it into other digits than the text shows (String(1e21), precision).
   */
  structural = 0;
  private units = new Uint16Array(0);
  private unitBytes = Buffer.alloc(0);
  keyQuotes = new Int32Array(16);
  /** The opening quote of each of keyQuotes' keys where the pass saw it, else -1. */
  keyOpens = new Int32Array(16);
  keyCount = 0;
  /** Where the last assignment check's key run ended (its keyEnd). */
  private runEnd = -1;
  numberHazard = false;
  /**
   * `levels`: '[' and '{', plus one for each that opens a string's content (`"[`, `" {`): a
   * string holding JSON is parsed one level deeper. Bounds the JSON text's nesting depth.
   */
  levels = 0;

  /** Lists the candidates in `s`; answers their number (0: no detector can match). */
  find(s: string): number {
    this.count = 0;
    this.structural = 0;
    this.keyCount = 0;
    this.numberHazard = false;
    this.levels = 0;
    const len = s.length;
    if (len >= UNITS_MIN && len <= UNITS_MAX) {
      const w = this.simd ? wasmScanner() : null;
      if (w) this.findInWasm(s, w);
      else this.findInUnits(s, len);
    } else this.findInChars(s, len);
    if (this.count > 1) this.sort();
    return this.count;
  }

  /** The main loop over charCodeAt (short and very long strings). */
  private findInChars(s: string, len: number): void {
    let run = 0; // token characters so far in the current run
    let after = AFTER_START; // the previous character's PACKED word >>> 8
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i); // in range: no bounds check needed
      const t = PACKED[c < NA ? c : NA];
      const ev = t & after;
      after = t >>> 8;
      run = (run + 1) & (t >> 31);
      if (run === MIN_TOKEN) this.longRun(s, i + 1 - MIN_TOKEN);
      if (ev !== 0) this.event(s, i, c, ev);
    }
  }

  /**
   * The same loop over a copy of the string's UTF-16 code units (Buffer#write copies natively):
   * a typed-array load costs about half of charCodeAt, which checks the string's representation
   * on every call. Keep the two loops identical. Used where WebAssembly SIMD is not available.
   */
  private findInUnits(s: string, len: number): void {
    if (this.units.length < len) {
      const bytes = Buffer.alloc(Math.max(len, 1024) * 4); // room to grow: twice len
      this.unitBytes = bytes;
      this.units = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
    }
    this.unitBytes.write(s, 0, 'utf16le');
    const u = this.units;
    let run = 0;
    let after = AFTER_START;
    for (let i = 0; i < len; i++) {
      const c = u[i];
      const t = PACKED[c < NA ? c : NA];
      const ev = t & after;
      after = t >>> 8;
      run = (run + 1) & (t >> 31);
      if (run === MIN_TOKEN) this.longRun(s, i + 1 - MIN_TOKEN);
      if (ev !== 0) this.event(s, i, c, ev);
    }
  }

  /**
   * The same loop's classification done 16 characters at a time by prefilter.wat (WebAssembly
   * SIMD): it lists the positions where the loop above would call longRun (bit 0) or event
   * (bit 1) — less the events keepsEvent rules out, whose brackets it counts in levels — and
   * only those are visited here, with the same calls in the same order.
   */
  private findInWasm(s: string, w: WasmScanner): void {
    const n = w.run(s);
    const hits = w.words;
    for (let k = w.hitsAt, end = k + n; k < end; k++) {
      const h = hits[k];
      const i = h >>> 2;
      if (h & 1) this.longRun(s, i + 1 - MIN_TOKEN);
      if (h & 2) {
        const c = s.charCodeAt(i);
        const p = i === 0 ? NA : s.charCodeAt(i - 1);
        const ev = PACKED[c < NA ? c : NA] & (PACKED[p < NA ? p : NA] >>> 8);
        if (ev !== 0) this.event(s, i, c, ev);
      }
    }
    this.levels += w.levels();
  }

  /** A character that may start (or end the key of) a detection, at i. */
  private event(s: string, i: number, c: number, ev: number): void {
    if (ev === E_BRACKET) {
      let j = i - 1;
      while (at(s, j) === 32) j--;
      this.levels += at(s, j) === 34 ? 2 : 1;
    } else if (ev === E_DIGIT) {
      // the first digit of a run
      if (!this.numberHazard) this.numberHazard = numberHazardAt(s, i);
      // IBAN: two capitals starting a word, then this digit run
      if (
        i >= 2 &&
        cls(s, i - 1) & UPPER &&
        cls(s, i - 2) & UPPER &&
        (i === 2 || !(cls(s, i - 3) & ALNUM))
      )
        this.push(i - 2);
      if (digitRunMayMatch(s, i, c)) this.push(i);
    } else if (ev === E_SPACE) {
      // after "…rer" or "…sic": `bearer ` (any case), `[Bb]asic `
      if ((at(s, i - 1) | 32) === 114) {
        if (
          i >= 6 &&
          lower(s, i - 6) === 98 &&
          lower(s, i - 5) === 101 &&
          lower(s, i - 4) === 97 &&
          lower(s, i - 3) === 114 &&
          lower(s, i - 2) === 101
        )
          this.push(i - 6);
      } else if (i >= 5 && lower(s, i - 5) === 98 && s.startsWith('asic', i - 4)) {
        this.push(i - 5);
      }
    } else if (ev === E_DASH) {
      // the last dash of `-----BEGIN`
      if (i >= 4 && at(s, i + 1) === 66 && s.startsWith('-----BEGIN', i - 4)) this.push(i - 4);
    } else if (c === 58 /* : */) {
      if (at(s, i + 1) === 47 && at(s, i + 2) === 47) {
        if (userinfoAt(s, i + 3)) this.push(i);
        if (i >= 5 && s.startsWith('hooks.slack.com/', i + 3)) this.push(i - 5);
      }
      // IPv6: "h:", "hh:", … "hhhh:" at a word start, or "::"; a hex digit or ':' follows
      const n1 = at(s, i + 1);
      if (n1 === 58 || (n1 >= 0 && n1 < NA && CHARS[n1] & HEX)) {
        let j = i;
        while (j > 0 && i - j < 5 && cls(s, j - 1) & HEX) j--;
        if (j < i && i - j <= 4 && (j === 0 || !ipv6Before(s, j - 1))) this.push(j);
        const n2 = at(s, i + 2);
        if (n1 === 58 && (n2 === 58 || (n2 >= 0 && n2 < NA && CHARS[n2] & HEX)))
          if (i === 0 || !ipv6Before(s, i - 1)) this.push(i);
      }
      const before = this.count;
      const runStart = this.assignment(s, i);
      if (this.count !== before && quotedSeparator(s, i)) this.structural += this.count - before;
      this.jsonKey(s, i, runStart);
    } else if (c === 61 /* = */) {
      this.azure(s, i);
      this.assignment(s, i);
    } else if (c === 64 /* @ */) {
      let j = i;
      while (j > 0 && cls(s, j - 1) & LOCAL) j--;
      if (j < i) this.push(j);
    } else if (c === 126 /* ~ */) {
      const q = at(s, i - 1);
      if (i >= 5 && (q === 81 || q === 113) && cls(s, i - 2) & DIGIT) this.push(i - 5);
    } else if (c === 43 /* + */) {
      const d = at(s, i + 1);
      if (d >= 49 && d <= 57) this.push(i);
    } else if (cls(s, i + 1) & DIGIT) {
      this.push(i); // (
    }
  }

  /** Candidates come almost in order (look-backs reach a few characters): insertion sort. */
  private sort(): void {
    const a = this.positions;
    const n = this.count;
    if (n > 256) {
      a.subarray(0, n).sort();
      return;
    }
    for (let i = 1; i < n; i++) {
      const v = a[i];
      let j = i - 1;
      while (j >= 0 && a[j] > v) {
        a[j + 1] = a[j];
        j--;
      }
      a[j + 1] = v;
    }
  }

  /**
   * Records the closing quote before the ':' at i (JSON whitespace between), if there is one,
   * and the key's opening quote when the assignment check's key run (which starts at
   * `runStart` and ends at runEnd) is the whole key: a '"' right before it, the run ending at
   * the closing quote. Otherwise -1 (a key with other characters, or longer than MAX_KEY).
   */
  private jsonKey(s: string, i: number, runStart: number): void {
    let j = i - 1;
    let c = at(s, j);
    while (c === 32 || c === 9 || c === 10 || c === 13) c = at(s, --j);
    if (c !== 34) return;
    if (this.keyCount === this.keyQuotes.length) {
      const grown = new Int32Array(this.keyQuotes.length * 2);
      grown.set(this.keyQuotes);
      this.keyQuotes = grown;
      const opens = new Int32Array(grown.length);
      opens.set(this.keyOpens);
      this.keyOpens = opens;
    }
    this.keyOpens[this.keyCount] =
      this.runEnd === j && runStart > 0 && s.charCodeAt(runStart - 1) === 34 ? runStart - 1 : -1;
    this.keyQuotes[this.keyCount++] = j;
  }

  private push(p: number): void {
    if (this.count === this.positions.length) {
      const grown = new Int32Array(this.positions.length * 2);
      grown.set(this.positions);
      this.positions = grown;
    }
    this.positions[this.count++] = p;
  }

  /**
   * A run of token characters reached MIN_TOKEN at `from`: its word starts (a letter after a
   * non-alphanumeric) with ≥ MIN_TOKEN token characters left before the run ends.
   */
  private longRun(s: string, from: number): void {
    let to = from + MIN_TOKEN;
    while (to < s.length && cls(s, to) & TOKEN) to++;
    const last = to - MIN_TOKEN;
    for (let a = from; a <= last; a++) {
      const k = cls(s, a);
      if (
        k & ALNUM &&
        !(k & DIGIT) &&
        (a === from || !(cls(s, a - 1) & ALNUM)) &&
        TOKEN_START[s.charCodeAt(a) * NA + s.charCodeAt(a + 1)] === 1
      )
        this.push(a);
    }
  }

  /** `AccountKey=`, `SharedAccessKey=`, `SharedAccessSignature=`, `sig=` before '=' at i. */
  private azure(s: string, i: number): void {
    const p = at(s, i - 1);
    if (p === 103 /* g */) {
      if (i >= 3 && s.startsWith('sig', i - 3)) this.push(i - 3);
    } else if (p === 121 /* y */) {
      if (i >= 10 && s.startsWith('AccountKey', i - 10)) this.push(i - 10);
      if (i >= 15 && s.startsWith('SharedAccessKey', i - 15)) this.push(i - 15);
    } else if (p === 101 /* e */) {
      if (i >= 21 && s.startsWith('SharedAccessSignature', i - 21)) this.push(i - 21);
    }
  }

  /**
   * `key = value` / `"key": value` with ':' or '=' at i: the key (after optional whitespace,
   * quote and backslash, read backwards) is a run of [A-Za-z0-9_.-] of which the match uses at
   * most the last MAX_KEY characters; a keyword starts ≤ MAX_CORE_OFFSET before its core.
   * Answers where that run starts (and leaves where it ends in runEnd).
   */
  private assignment(s: string, i: number): number {
    // i < s.length, so every index read below is in range: charCodeAt without at()'s checks
    let j = i;
    let c = j > 0 ? s.charCodeAt(j - 1) : -1;
    while (c === 32 || c === 9) c = --j > 0 ? s.charCodeAt(j - 1) : -1;
    if (c === 34 || c === 39) c = --j > 0 ? s.charCodeAt(j - 1) : -1;
    if (c === 92) j--;
    const keyEnd = j;
    const lo = keyEnd > MAX_KEY ? keyEnd - MAX_KEY : 0;
    let k = keyEnd;
    while (k > lo) {
      const ch = s.charCodeAt(k - 1);
      if (ch >= NA || !(CHARS[ch] & KEYCH)) break;
      k--;
    }
    // indices in [k, keyEnd) are in range; a core is ≥ 3 characters and starts with one of
    // CORE_PAIRS (case-folded), which rejects most positions with one lookup
    for (let p = k; p + 3 <= keyEnd; p++) {
      const pair = ((s.charCodeAt(p) | 32) & 127) * NA + ((s.charCodeAt(p + 1) | 32) & 127);
      if (CORE_PAIR[pair] === 0 || !coreAt(s, p, keyEnd)) continue;
      for (let q = p - MAX_CORE_OFFSET > k ? p - MAX_CORE_OFFSET : k; q <= p; q++) this.push(q);
    }
    this.runEnd = keyEnd;
    return k;
  }
}
