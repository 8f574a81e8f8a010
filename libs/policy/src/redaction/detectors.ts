/**
 * Built-in value detectors, combined into ONE V8 RegExp (an alternation of vetted patterns, one
 * capture group per detector) so a string is scanned in a single pass however many detectors
 * are on. Validators (validators.ts) run only on candidates.
 *
 * Why V8 and not RE2 here: these patterns are ours, reviewed for linear behaviour — every
 * alternative starts with a negative lookbehind on its own character class, so it can only begin
 * at the start of a run and each run is tried once, and no alternative nests ambiguous
 * quantifiers. Tenant patterns never reach V8: they go through re2js (custom.ts).
 *
 * Recall over precision for secrets: the provider token shapes follow the providers' published
 * prefixes (GitHub "ghp_", GitLab "glpat-", Slack "xox?-", Stripe "sk_live_", OpenAI "sk-",
 * Anthropic "sk-ant-", AWS "AKIA…", Google "AIza…", …). For PII, structure checks keep
 * precision: Luhn for cards, mod-97 for IBANs, digit counts for phones, IPv6 grammar.
 */
import {
  assignmentValueStart,
  validateAssignment,
  validateBasic,
  validateBearer,
  validateCard,
  validateIban,
  validateIntlPhone,
  validateIpv6,
  validateJwt,
  validateNationalPhone,
} from './validators';
import { CandidateFinder } from './prefilter';

/** Every built-in detector, by id. The id names the detector in tokens and summaries. */
export const BUILTIN_DETECTORS = [
  'private_key',
  'url_credentials',
  'jwt',
  'bearer_token',
  'basic_auth',
  'aws_access_key_id',
  'aws_secret_access_key',
  'gcp_api_key',
  'gcp_oauth_token',
  'azure_key',
  'anthropic_api_key',
  'openai_api_key',
  'github_token',
  'gitlab_token',
  'slack_token',
  'stripe_key',
  'huggingface_token',
  'llm_api_key',
  'saas_token',
  'custodian_api_key',
  'secret_assignment',
  'email',
  'iban',
  'payment_card',
  'us_ssn',
  'phone',
  'ipv4',
  'ipv6',
] as const;

export type BuiltinDetectorId = (typeof BUILTIN_DETECTORS)[number];

/** Secrets are never exempted by `allowedValues`; PII may be (e.g. the company's own domain). */
export type DetectorKind = 'secret' | 'pii';

export const DETECTOR_KIND: Readonly<Record<BuiltinDetectorId, DetectorKind>> = {
  private_key: 'secret',
  url_credentials: 'secret',
  jwt: 'secret',
  bearer_token: 'secret',
  basic_auth: 'secret',
  aws_access_key_id: 'secret',
  aws_secret_access_key: 'secret',
  gcp_api_key: 'secret',
  gcp_oauth_token: 'secret',
  azure_key: 'secret',
  anthropic_api_key: 'secret',
  openai_api_key: 'secret',
  github_token: 'secret',
  gitlab_token: 'secret',
  slack_token: 'secret',
  stripe_key: 'secret',
  huggingface_token: 'secret',
  llm_api_key: 'secret',
  saas_token: 'secret',
  custodian_api_key: 'secret',
  secret_assignment: 'secret',
  email: 'pii',
  iban: 'pii',
  payment_card: 'pii',
  us_ssn: 'pii',
  phone: 'pii',
  ipv4: 'pii',
  ipv6: 'pii',
};

/**
 * Validator: answers the accepted end (≤ candidate end) or -1. Span: narrows the redacted part
 * inside an accepted match (e.g. keep "Bearer " and the URL's scheme and host).
 */
type Validator = (s: string, start: number, end: number) => number;
type Narrow = (s: string, start: number, end: number) => number; // new start

interface Alternative {
  id: BuiltinDetectorId;
  source: string;
  validate?: Validator;
  narrowStart?: Narrow;
  /** characters to leave at the end of the match (e.g. the '@' of URL credentials). */
  keepTail?: number;
}

/** lower | UPPER | Capitalized forms of a keyword, with [_-]? between its words. */
function keywordForms(words: string[]): string[] {
  const cap = (w: string): string => w[0].toUpperCase() + w.slice(1);
  return [
    words.join('[_-]?'),
    words.map((w) => w.toUpperCase()).join('[_-]?'),
    words.map(cap).join(''),
    words.length > 1 ? words[0] + words.slice(1).map(cap).join('') : '',
  ].filter((f) => f !== '');
}

const SECRET_KEYWORDS: string[][] = [
  ['password'],
  ['passwd'],
  ['passphrase'],
  ['pwd'],
  ['secret'],
  ['api', 'key'],
  ['apikey'],
  ['access', 'key'],
  ['private', 'key'],
  ['credential'],
  ['credentials'],
  ['authorization'],
  ['access', 'token'],
  ['auth', 'token'],
  ['refresh', 'token'],
  ['id', 'token'],
  ['api', 'token'],
  ['session', 'token'],
  ['bearer', 'token'],
  ['csrf', 'token'],
  ['client', 'secret'],
  ['cookie'],
];

function secretKeySource(): string {
  const lowerUpper: string[] = [];
  const camel: string[] = [];
  for (const words of SECRET_KEYWORDS) {
    const [lower, upper, capital, camelForm] = keywordForms(words);
    lowerUpper.push(lower, upper);
    if (camelForm) lowerUpper.push(camelForm);
    camel.push(capital);
  }
  return (
    `(?:(?<![A-Za-z])(?:${lowerUpper.join('|')})|(?<![A-Z])(?:${camel.join('|')}))` +
    // one optional suffix segment: "_hash", "AccessKey", ".value" — never "ary" (secretary)
    `(?:[_.A-Z-][A-Za-z0-9_.-]{0,40})?`
  );
}

/**
 * Key names that announce a credential (`password`, `db.password`, `clientSecret`,
 * `x-api-key`, `access_token`, …): the secret_assignment detector applies to the whole value
 * of such a key in maps and JSON objects, not only to `key=value` text.
 */
export const SECRET_KEY_NAME = new RegExp(`${secretKeySource()}$`);

function secretAssignmentSource(): string {
  const key = secretKeySource();
  const sep = `\\\\?["']?[ \\t]*[:=]>?[ \\t]*`;
  // "Authorization: Bearer x": the scheme word belongs to the value, or the token would leak;
  // a spaced digit run ("pin = 4000 1234 5678") is one value, or its tail would leak
  const scheme = `(?:[Bb]earer|BEARER|[Bb]asic|BASIC|[Tt]oken|[Dd]igest|[Nn]egotiate)[ \\t]+`;
  const bare = `[^\\s"'\\\\,;&<>\\[\\]{}()]`;
  const value = `(?:\\\\?"[^"\\\\\\n]{1,512}|'[^'\\n]{1,512}|${scheme}${bare}{1,512}|\\d(?:[ -]?\\d){3,30}(?![^\\s,;&])|${bare}{4,512})`;
  return key + sep + value;
}

const HEX = '[0-9A-Fa-f]';

/** In priority order: at one start position the first alternative that validates wins. */
const ALTERNATIVES: Alternative[] = [
  {
    id: 'private_key',
    source:
      '-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----(?:[\\s\\S]*?-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----|[\\s\\S]*)',
  },
  {
    id: 'url_credentials',
    source: `://[^\\s/?#@:"'<>\\[\\]]{1,256}:[^\\s/?#@"'<>\\[\\]]{1,256}@`,
    narrowStart: (_s, start) => start + 3,
    keepTail: 1,
  },
  {
    id: 'jwt',
    source: '(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]*',
    validate: validateJwt,
  },
  {
    id: 'bearer_token',
    source: '(?<![A-Za-z0-9_])[Bb][Ee][Aa][Rr][Ee][Rr][ \\t]+[A-Za-z0-9._~+/-]{8,}=*',
    validate: validateBearer,
    narrowStart: (s, start) => {
      let i = start + 6;
      while (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9) i++;
      return i;
    },
  },
  {
    id: 'basic_auth',
    source: '(?<![A-Za-z0-9_])[Bb]asic[ \\t]+[A-Za-z0-9+/]{6,}={0,2}',
    validate: validateBasic,
    narrowStart: (s, start) => {
      let i = start + 5;
      while (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9) i++;
      return i;
    },
  },
  {
    id: 'aws_access_key_id',
    source:
      '(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}(?![A-Za-z0-9])',
  },
  {
    id: 'aws_secret_access_key',
    // context-bound: a bare 40-character base64 run is too common to call a secret
    source: `(?<![A-Za-z])(?:aws|AWS|Aws)?[_-]?(?:secret|SECRET|Secret)[_-]?(?:access|ACCESS|Access)?[_-]?(?:key|KEY|Key)(?:[_-]?(?:id|ID|Id))?\\\\?["']?[ \\t]*[:=][ \\t]*\\\\?["']?[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])`,
    narrowStart: (_s, _start, end) => end - 40,
  },
  { id: 'gcp_api_key', source: '(?<![A-Za-z0-9_-])AIza[0-9A-Za-z_-]{35}' },
  { id: 'gcp_oauth_token', source: '(?<![A-Za-z0-9_-])ya29\\.[0-9A-Za-z_-]{20,}' },
  {
    id: 'azure_key',
    source:
      '(?:(?<![A-Za-z])(?:AccountKey|SharedAccessKey|SharedAccessSignature)=[A-Za-z0-9+/%=&:.-]{20,}|(?<![A-Za-z0-9])sig=[A-Za-z0-9%+/=]{20,}|(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.-]{3}\\d[Qq]~[A-Za-z0-9_~.-]{31,34})',
    narrowStart: (s, start, end) => {
      const eq = s.indexOf('=', start);
      return eq !== -1 && eq < end && eq - start < 24 ? eq + 1 : start;
    },
  },
  { id: 'anthropic_api_key', source: '(?<![A-Za-z0-9_-])sk-ant-[A-Za-z0-9_-]{20,}' },
  {
    id: 'openai_api_key',
    source: '(?<![A-Za-z0-9_-])sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}',
  },
  {
    id: 'github_token',
    source: '(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})',
  },
  {
    id: 'gitlab_token',
    source:
      '(?<![A-Za-z0-9_-])gl(?:pat|dt|rt|ptt|cbt|ft|soat|oas|imt|agent|ffct)-[A-Za-z0-9_-]{20,}',
  },
  {
    id: 'slack_token',
    source:
      '(?:(?<![A-Za-z0-9_-])(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\\d-[A-Za-z0-9-]{10,})|https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]{16,})',
  },
  {
    id: 'stripe_key',
    source:
      '(?<![A-Za-z0-9_])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|whsec_[A-Za-z0-9+/=]{24,})',
  },
  { id: 'huggingface_token', source: '(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}' },
  {
    id: 'llm_api_key',
    // Groq, xAI, Replicate, Perplexity, OpenRouter, Google AI Studio share Google's AIza (above)
    source:
      '(?<![A-Za-z0-9_-])(?:gsk_[A-Za-z0-9]{40,}|xai-[A-Za-z0-9]{40,}|r8_[A-Za-z0-9]{30,}|pplx-[A-Za-z0-9]{40,}|sk-or-v1-[a-f0-9]{40,})',
  },
  {
    id: 'saas_token',
    // npm, PyPI, SendGrid, Twilio, Mailgun, Shopify, DigitalOcean, Linear, Notion, Atlassian,
    // New Relic, Doppler, Postman, Databricks, Pulumi, Vercel-style
    source: `(?<![A-Za-z0-9_-])(?:npm_[A-Za-z0-9]{36}|pypi-AgE[A-Za-z0-9_-]{50,}|SG\\.[A-Za-z0-9_-]{16,}\\.[A-Za-z0-9_-]{16,}|SK[0-9a-f]{32}|key-[0-9a-f]{32}|shp(?:at|ss|ca|pa)_${HEX}{32}|do[por]_v1_[a-f0-9]{64}|lin_api_[A-Za-z0-9]{40}|ntn_[A-Za-z0-9]{40,}|secret_[A-Za-z0-9]{43}|ATATT3[A-Za-z0-9_=-]{100,}|NRAK-[A-Z0-9]{27}|dp\\.(?:st|ct|sa|scim)\\.[A-Za-z0-9_-]{40,}|PMAK-[a-f0-9]{24}-[a-f0-9]{34}|dapi[a-f0-9]{32}|pul-[a-f0-9]{40})`,
  },
  {
    id: 'custodian_api_key',
    source: '(?<![A-Za-z0-9_])cus_[a-z2-9]{12}_[A-Za-z0-9_-]{20,}',
  },
  {
    id: 'secret_assignment',
    source: secretAssignmentSource(),
    validate: validateAssignment,
    narrowStart: assignmentValueStart,
  },
  {
    id: 'email',
    source:
      "(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,24}(?![A-Za-z0-9-])",
  },
  {
    id: 'iban',
    source: '(?<![A-Za-z0-9])[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])',
    validate: validateIban,
  },
  {
    id: 'payment_card',
    // IIN first digit 2–6 (Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/
    // UnionPay): nanosecond timestamps (1…) and long ids are not candidates.
    source: '(?<![\\d.-])[2-6]\\d(?:[ -]?\\d){11,17}(?![\\d])',
    validate: validateCard,
  },
  {
    id: 'us_ssn',
    source:
      '(?<![\\d-])(?!000|666|9\\d\\d)\\d{3}(?:-(?!00)\\d{2}-(?!0000)\\d{4}|[ ](?!00)\\d{2}[ ](?!0000)\\d{4})(?![\\d-])',
  },
  {
    id: 'phone',
    source:
      '(?:(?<![\\w+])\\+[1-9]\\d{0,3}(?:[ .-]?\\(?\\d{1,4}\\)?){1,5}(?:[ .-]?\\d{2,4})?(?![\\w-])' +
      '|(?<![\\w(])\\(\\d{2,4}\\)[ .-]?\\d{3,4}[ .-]?\\d{3,4}(?![\\w-])' +
      '|(?<![\\w.-])(?:\\d{3}[.-]\\d{3}[.-]\\d{4}|\\d{3} \\d{3} \\d{4}|0\\d{2,4} \\d{3,4} ?\\d{3,4}|0[1-9](?:[ .]\\d{2}){4})(?![\\w-]|\\.\\d))',
    validate: (s, start, end) =>
      s.charCodeAt(start) === 43
        ? validateIntlPhone(s, start, end)
        : validateNationalPhone(s, start, end),
  },
  {
    id: 'ipv4',
    source:
      '(?<![\\w.])(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}(?![\\w]|\\.\\d)',
  },
  {
    id: 'ipv6',
    // starts with a consuming group (a lookahead at every position cost 8× the whole scan)
    source: `(?<![\\w:.])(?:${HEX}{1,4}:|::)[0-9A-Fa-f:]{1,37}(?:\\.\\d{1,3}){0,3}(?![\\w:])`,
    validate: validateIpv6,
  },
];

/** Scratch output of a scan: parallel arrays, reused across calls (no per-match objects). */
export class Matches {
  count = 0;
  starts: number[] = [];
  ends: number[] = [];
  /** detector index: < builtins = built-in, otherwise custom pattern index + offset. */
  kinds: number[] = [];

  reset(): void {
    this.count = 0;
  }

  push(kind: number, start: number, end: number): void {
    const i = this.count++;
    this.starts[i] = start;
    this.ends[i] = end;
    this.kinds[i] = kind;
  }
}

/**
 * The compiled built-in detectors of one policy: one RegExp, one capture group each.
 *
 * `scan` runs the combined pattern sticky at the prefilter's candidates only (prefilter.ts);
 * `scanFull` is the plain global scan it replaces — same results, kept as the reference the
 * prefilter is proven against (detectors.spec.ts) and as the benchmarks' baseline.
 */
export class BuiltinScanner {
  /** detector ids in group order (group k+1 ↔ ids[k]). */
  readonly ids: BuiltinDetectorId[];
  private readonly combined: RegExp;
  private readonly combinedSticky: RegExp;
  private readonly alts: Alternative[];
  private readonly sticky: RegExp[];
  /** The prefilter; after `scan`, its facts describe the last string scanned (prefilter.ts). */
  readonly finder: CandidateFinder;
  /** Candidates the prefilter listed in the last string `scan` saw (0 after scanFull). */
  candidates = 0;

  /** `simd`: the prefilter's WebAssembly pass where available (see CandidateFinder). */
  constructor(enabled: ReadonlySet<BuiltinDetectorId>, simd = true) {
    this.finder = new CandidateFinder(simd);
    this.alts = ALTERNATIVES.filter((a) => enabled.has(a.id));
    this.ids = this.alts.map((a) => a.id);
    const source = this.alts.map((a) => `(${a.source})`).join('|');
    this.combined = this.alts.length ? new RegExp(source, 'g') : /(?!)/g;
    this.combinedSticky = this.alts.length ? new RegExp(source, 'y') : /(?!)/y;
    this.sticky = this.alts.map((a) => new RegExp(a.source, 'y'));
  }

  get empty(): boolean {
    return this.alts.length === 0;
  }

  /**
   * Appends validated, non-overlapping detections in `s` to `out` (kind = index in `ids`).
   * Answers the number appended. Allocates nothing when `s` has no candidate (most strings).
   */
  scan(s: string, out: Matches): number {
    this.candidates = 0;
    if (this.alts.length === 0) return 0;
    const n = (this.candidates = this.finder.find(s));
    if (n === 0) return 0;
    const positions = this.finder.positions;
    const re = this.combinedSticky;
    const before = out.count;
    let from = 0; // the global scan's lastIndex
    let tried = -1;
    for (let k = 0; k < n; k++) {
      const start = positions[k];
      if (start < from || start === tried) continue;
      tried = start;
      re.lastIndex = start;
      const m = re.exec(s);
      if (m === null) continue;
      const next = this.accept(s, m, start, out);
      if (next >= 0) from = next;
    }
    return out.count - before;
  }

  /** The full global scan (the reference for `scan`): same contract. */
  scanFull(s: string, out: Matches): number {
    this.candidates = 0;
    if (this.alts.length === 0) return 0;
    const re = this.combined;
    const before = out.count;
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(s)) !== null) {
      const start = m.index;
      const next = this.accept(s, m, start, out);
      re.lastIndex = next >= 0 ? next : start + 1;
    }
    return out.count - before;
  }

  /**
   * A match of the combined pattern at `start`: validates it (or, when the first alternative
   * fails its check, tries the later ones at the same position) and emits the detection.
   * Answers where the scan resumes, or -1 when nothing at `start` was accepted.
   */
  private accept(s: string, m: RegExpExecArray, start: number, out: Matches): number {
    let k = 1;
    while (m[k] === undefined) k++;
    const alt = k - 1;
    let end = start + m[0].length;
    const validate = this.alts[alt].validate;
    if (validate) {
      end = validate(s, start, end);
      if (end < 0) {
        const found = this.retryAt(s, start, alt + 1);
        if (found === null) return -1;
        this.emit(s, found[0], start, found[1], out);
        return found[1] > start ? found[1] : start + 1;
      }
    }
    this.emit(s, alt, start, end, out);
    return end > start ? end : start + 1;
  }

  private retryAt(s: string, pos: number, from: number): [number, number] | null {
    for (let j = from; j < this.alts.length; j++) {
      const st = this.sticky[j];
      st.lastIndex = pos;
      const m = st.exec(s);
      if (m === null) continue;
      let end = pos + m[0].length;
      const v = this.alts[j].validate;
      if (v) end = v(s, pos, end);
      if (end >= 0) return [j, end];
    }
    return null;
  }

  private emit(s: string, alt: number, start: number, end: number, out: Matches): void {
    const a = this.alts[alt];
    const from = a.narrowStart ? a.narrowStart(s, start, end) : start;
    const to = end - (a.keepTail ?? 0);
    if (to > from) out.push(alt, from, to);
  }
}

/**
 * The source of each built-in detector's pattern, in priority order (for documentation, the
 * console, and the benchmark's naive baseline of one pass per detector).
 */
export function builtinDetectorSources(): { id: BuiltinDetectorId; source: string }[] {
  return ALTERNATIVES.map((a) => ({ id: a.id, source: a.source }));
}
