/**
 * IP address text as Zipkin endpoints carry it, read and written the way the OTel Collector's
 * zipkin receiver does (Go's net.ParseIP and net.IP.String): either field may hold either
 * family; IPv4 octets have no leading zeros; IPv4-mapped IPv6 prints as dotted IPv4; IPv6 prints
 * in RFC 5952 form (lower case, longest zero run compressed). Zones are not IPs and are refused.
 */

/** Parses IPv4 or IPv6 text into 16 bytes (IPv4 as ::ffff:a.b.c.d); undefined if invalid. */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.includes(':')) return parseIpv6(text);
  const v4 = parseIpv4(text);
  if (v4 === undefined) return undefined;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(v4, 12);
  return out;
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string): string[] => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const words: number[] = [];
  const all = [...head, ...tail];
  for (let i = 0; i < all.length; i++) {
    const g = all[i];
    if (i === all.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      if (v4 === undefined) return undefined;
      words.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      words.push(parseInt(g, 16));
    }
  }
  const headWords = words.length - (tail.length === 0 ? 0 : wordsOf(tail));
  if (halves.length === 1 ? words.length !== 8 : words.length > 7) return undefined;
  const gap = 8 - words.length;
  for (let i = 0, w = 0; i < 8; i++) {
    const word = i < headWords ? words[w++] : i < headWords + gap ? 0 : words[w++];
    out[i * 2] = word >> 8;
    out[i * 2 + 1] = word & 0xff;
  }
  return out;
}

/** Number of 16-bit words a group list stands for (an embedded IPv4 counts two). */
function wordsOf(groups: string[]): number {
  const last = groups[groups.length - 1];
  return groups.length + (last !== undefined && last.includes('.') ? 1 : 0);
}

/** Formats 16 bytes as Go's net.IP.String() does. */
export function formatIp(ip: Uint8Array): string {
  let mapped = true;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) mapped = false;
  if (mapped && ip[10] === 0xff && ip[11] === 0xff)
    return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip[i] << 8) | ip[i + 1]);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += words[i].toString(16);
  }
  return out;
}
