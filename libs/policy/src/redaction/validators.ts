/**
 * Validators run only on candidates found by the combined detector pattern (detectors.ts).
 * The pattern is deliberately loose, so that no grouping or spacing of a secret escapes it;
 * these checks restore precision where a checksum or a structure exists (Luhn for payment
 * cards, ISO 13616 mod-97 for IBANs, RFC 4291 text form for IPv6, RFC 7519 for JWTs).
 *
 * Each validator gets the whole string and the candidate's bounds and answers the end of the
 * accepted match (which may be shorter than the candidate, e.g. a card number followed by
 * more digit groups), or -1 to reject. None allocates on the common path except where noted.
 */
import { Buffer } from 'node:buffer';

/** Luhn (ISO/IEC 7812-1) over the digits of `s[start, end)`, ignoring separators. */
export function luhnValid(s: string, start: number, end: number): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  let first = -1;
  let allSame = true;
  for (let i = end - 1; i >= start; i--) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    if (first === -1) first = c;
    else if (c !== first) allSame = false;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits >= 13 && digits <= 19 && !allSame && sum % 10 === 0;
}

/**
 * Payment card: the longest Luhn-valid prefix of 13–19 digits that ends at a group boundary
 * (end of candidate, or before a space or dash), so "4111 1111 1111 1111 2024" yields the card.
 */
export function validateCard(s: string, start: number, end: number): number {
  let e = end;
  while (e > start) {
    if (luhnValid(s, start, e)) return e;
    // step back to the previous group boundary
    let i = e - 1;
    while (i > start && s.charCodeAt(i - 1) !== 32 && s.charCodeAt(i - 1) !== 45) i--;
    if (i <= start) return -1;
    e = i - 1; // before the separator
  }
  return -1;
}

/** ISO 13616 IBAN: 2 letters, 2 check digits, BBAN; mod 97 of the rearranged number is 1. */
export function ibanValid(compact: string): boolean {
  const n = compact.length;
  if (n < 15 || n > 34) return false;
  let rem = 0;
  for (let k = 0; k < n; k++) {
    const c = compact.charCodeAt((k + 4) % n);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

/** IBAN candidate, possibly followed by more words: try shorter ends at space boundaries. */
export function validateIban(s: string, start: number, end: number): number {
  let e = end;
  while (e > start) {
    if (ibanValid(s.slice(start, e).replace(/ /g, ''))) return e;
    const sp = s.lastIndexOf(' ', e - 1);
    if (sp <= start) return -1;
    e = sp;
  }
  return -1;
}

/** Digits in `s[start,end)`. */
function countDigits(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

/** International number: E.164 allows at most 15 digits; fewer than 8 is not a phone. */
export function validateIntlPhone(s: string, start: number, end: number): number {
  const d = countDigits(s, start, end);
  return d >= 8 && d <= 15 ? end : -1;
}

/** National formats: 9–11 digits. */
export function validateNationalPhone(s: string, start: number, end: number): number {
  const d = countDigits(s, start, end);
  return d >= 9 && d <= 11 ? end : -1;
}

/** RFC 4291 §2.2 text forms, including "::" compression and an embedded IPv4 tail. */
export function ipv6Valid(text: string): boolean {
  if (text.length < 2 || text.length > 45) return false;
  let body = text;
  let extra = 0;
  const lastColon = body.lastIndexOf(':');
  const tail = body.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!ipv4Valid(tail)) return false;
    body = body.slice(0, lastColon + 1) + '0';
    extra = 1; // the IPv4 tail counts as two groups; '0' stands for one
  }
  const dbl = body.indexOf('::');
  if (dbl !== -1 && body.indexOf('::', dbl + 1) !== -1) return false;
  const check = (part: string): number => {
    if (part === '') return 0;
    const groups = part.split(':');
    for (const g of groups) if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return -1;
    return groups.length;
  };
  let hasHex = false;
  for (let i = 0; i < body.length; i++) if (body.charCodeAt(i) !== 58) hasHex = true;
  if (!hasHex) return false;
  if (dbl === -1) return check(body) + extra === 8;
  const left = check(body.slice(0, dbl));
  const right = check(body.slice(dbl + 2));
  if (left < 0 || right < 0) return false;
  return left + right + extra <= 7;
}

export function validateIpv6(s: string, start: number, end: number): number {
  return ipv6Valid(s.slice(start, end)) ? end : -1;
}

function ipv4Valid(t: string): boolean {
  const parts = t.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === '0')) return false;
  }
  return true;
}

/** RFC 7519: the first segment is base64url of a JSON object (the JOSE header). */
export function validateJwt(s: string, start: number, end: number): number {
  const dot = s.indexOf('.', start);
  if (dot === -1 || dot >= end) return -1;
  try {
    const header: unknown = JSON.parse(Buffer.from(s.slice(start, dot), 'base64url').toString());
    return header !== null && typeof header === 'object' ? end : -1;
  } catch {
    return -1;
  }
}

/** RFC 7617: "Basic " + base64 of "user:password" (printable, with a colon). */
export function validateBasic(s: string, start: number, end: number): number {
  let i = start + 5;
  while (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9) i++;
  const decoded = Buffer.from(s.slice(i, end), 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return -1;
  for (let k = 0; k < decoded.length; k++) {
    const c = decoded.charCodeAt(k);
    if (c < 32 || c > 126) return -1;
  }
  return end;
}

/** "Bearer <token>": a token has a digit or is long; "Bearer authentication" is prose. */
export function validateBearer(s: string, start: number, end: number): number {
  let i = start + 6;
  while (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9) i++;
  if (end - i >= 24) return end;
  for (let k = i; k < end; k++) {
    const c = s.charCodeAt(k);
    if (c >= 48 && c <= 57) return end;
  }
  return -1;
}

/** Values that are already a redaction token are not secrets (keeps redaction idempotent). */
export function validateAssignment(s: string, start: number, end: number): number {
  const v = assignmentValueStart(s, start, end);
  if (v >= end) return -1;
  if (isToken(s, v)) return -1;
  // "Authorization: Bearer [REDACTED:…]": the scheme word alone is not the secret
  let after = end;
  while (s.charCodeAt(after) === 32 || s.charCodeAt(after) === 9) after++;
  if (after > end && isToken(s, after)) return -1;
  return end;
}

function isToken(s: string, at: number): boolean {
  return s.startsWith('[REDACTED', at) || s.startsWith('[HASH:', at);
}

/** Where the value of `key = value` / `"key": "value"` starts inside the match. */
export function assignmentValueStart(s: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c === 58 /* : */ || c === 61 /* = */) break;
    i++;
  }
  i++;
  while (i < end) {
    const c = s.charCodeAt(i);
    // > (of =>), space, tab, quotes, backslash (escaped quotes in JSON-in-JSON)
    if (c === 62 || c === 32 || c === 9 || c === 34 || c === 39 || c === 92) i++;
    else break;
  }
  return i;
}
