/**
 * The gateway's re-framer, shared by {@link splitTraces} and {@link splitLogs}: walk an
 * Export{Trace,Logs}ServiceRequest on the wire, validate all of it, find each item's partition,
 * and write one request per partition made of byte slices of the original.
 *
 * Why not decode: the gateway's budget is ~6.7 µs per span for everything (auth, limits,
 * Kafka); decoding to objects and re-encoding costs several times that
 * (bench/otlp/split.bench.ts). Both signals share the same shape — Resource* (1: resource,
 * 2: Scope*, 3: schema_url) → Scope* (1: scope, 2: item, 3: schema_url) — so one walker serves
 * both, with the item (Span / LogRecord) handled by a signal-specific callback.
 *
 * What a part holds, for its partition P: for every ResourceX with at least one item of P, the
 * ResourceX's own fields (resource, schema_url, unknown fields) byte for byte, and for every
 * ScopeX in it with items of P, the ScopeX's own fields byte for byte and only P's items, in
 * their original order. Fields that precede the first child stay in front of the children and
 * the rest follow them, so when every item goes to one partition the part equals the input
 * (minus unknown top-level fields and empty containers). Rejected items are left out.
 *
 * All bookkeeping lives in module-level typed arrays reused across calls (the functions are
 * synchronous and not re-entrant): the walk allocates nothing per item; the output costs one
 * buffer per part.
 */
import { Buffer } from 'node:buffer';
import { fields } from './common';
import { ProtoReader } from './reader';
import { validateResource, validateScope, validateString } from './validate';
import { varintSize } from './writer';

/**
 * Most partitions a split accepts (Kafka topics in practice have far fewer); bounds the
 * per-partition scratch array, which is indexed by partition number.
 */
export const MAX_PARTITIONS = 65536;

/** Item walker result codes below 0: the item is rejected for this reason. */
export const REJECT_INVALID_TRACE_ID = -1;
export const REJECT_INVALID_SPAN_ID = -2;
export const REJECT_ATTRIBUTE_LIMIT = -3;

/** Limits and routing shared by the walk and the item callback. */
export interface SplitContext {
  partitions: number;
  maxAttributes: number;
  maxValueBytes: number;
  fallbackPartition: number;
  /** Rejections by reason: index 0 = trace id, 1 = span id, 2 = attribute limit. */
  rejected: [number, number, number];
}

/** Validates one item ending at `end` and returns its partition or a REJECT_* code. */
export type ItemWalker = (r: ProtoReader, end: number, ctx: SplitContext) => number;

export interface SignalShape {
  request: string;
  resource: string;
  scope: string;
  resourceSchemaUrl: string;
  scopeSchemaUrl: string;
  walkItem: ItemWalker;
}

/** Why a single span (or log record) was dropped. Stable: used as a metric label. */
export type RejectReason = 'invalid_trace_id' | 'invalid_span_id' | 'attribute_limit';

export type RejectCounts = Record<RejectReason, number>;

/** A problem with a split option; `path` names the field (e.g. "partitions"). */
export interface OptionProblem {
  path: string;
  message: string;
}

export function checkLimit(v: number | undefined, path: string, problems: OptionProblem[]): void {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0)) {
    problems.push({ path, message: 'must be an integer ≥ 0 (or absent for no limit)' });
  }
}

export function throwIfInvalid(problems: OptionProblem[]): void {
  if (problems.length > 0) {
    throw new RangeError(
      `invalid split options: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
  }
}

export function makeContext(
  partitions: number,
  maxAttributes: number | undefined,
  maxValueBytes: number | undefined,
  fallbackPartition: number,
): SplitContext {
  return {
    partitions,
    maxAttributes: maxAttributes ?? Number.POSITIVE_INFINITY,
    maxValueBytes: maxValueBytes ?? Number.POSITIVE_INFINITY,
    fallbackPartition,
    rejected: [0, 0, 0],
  };
}

export function rejectCounts(ctx: SplitContext): RejectCounts {
  return {
    invalid_trace_id: ctx.rejected[0],
    invalid_span_id: ctx.rejected[1],
    attribute_limit: ctx.rejected[2],
  };
}

export interface RawPart {
  partition: number;
  bytes: Uint8Array;
  count: number;
}

export interface RawSplit {
  parts: RawPart[];
  accepted: number;
}

const REQUEST = fields(1);
const CONTAINER = fields(1, 2, 3);

/** Growable Int32Array with a record stride. */
class Table {
  data: Int32Array;
  length = 0;

  constructor(
    readonly stride: number,
    capacity: number,
  ) {
    this.data = new Int32Array(stride * capacity);
  }

  /** Appends a zeroed record; returns its base index into {@link data}. */
  add(): number {
    const base = this.length * this.stride;
    if (base + this.stride > this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.length++;
    return base;
  }
}

// items: [fieldStart, contentEnd, partition, scope]
const items = new Table(4, 1024);
// scopes: [resource, pieceFrom, pieceMid, pieceTo, ownBytes]
const scopes = new Table(5, 64);
// resources: [pieceFrom, pieceMid, pieceTo, ownBytes]
const resources = new Table(4, 16);
// byte ranges of the containers' own fields: [start, end]
const scopePieces = new Table(2, 128);
const resourcePieces = new Table(2, 32);

let partCursor = new Int32Array(256);
let order = new Int32Array(1024);
let tape = new Int32Array(2048);
let distinct = new Int32Array(64);

export function splitRequest(bytes: Uint8Array, shape: SignalShape, ctx: SplitContext): RawSplit {
  items.length = 0;
  scopes.length = 0;
  resources.length = 0;
  scopePieces.length = 0;
  resourcePieces.length = 0;

  const r = new ProtoReader(bytes);
  const end = bytes.length;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) walkResource(r, r.len(end, tag), shape, ctx);
    else r.skip(tag, end, REQUEST, shape.request);
  }
  r.finish(end, shape.request);
  return { parts: frame(bytes, ctx.partitions), accepted: items.length };
}

function walkResource(r: ProtoReader, end: number, shape: SignalShape, ctx: SplitContext): void {
  r.enter();
  const resource = resources.length;
  const base = resources.add();
  const from = resourcePieces.length;
  let mid = -1;
  let own = 0;
  while (r.pos < end) {
    const start = r.pos;
    const tag = r.tag();
    if (tag === 0x12) {
      if (mid < 0) mid = resourcePieces.length;
      walkScope(r, r.len(end, tag), resource, shape, ctx);
      continue;
    }
    if (tag === 0x0a) validateResource(r, r.len(end, tag));
    else if (tag === 0x1a) validateString(r, end, tag, shape.resourceSchemaUrl);
    else r.skip(tag, end, CONTAINER, shape.resource);
    const p = resourcePieces.add();
    resourcePieces.data[p] = start;
    resourcePieces.data[p + 1] = r.pos;
    own += r.pos - start;
  }
  r.finish(end, shape.resource);
  r.leave();
  const d = resources.data;
  d[base] = from;
  d[base + 1] = mid < 0 ? resourcePieces.length : mid;
  d[base + 2] = resourcePieces.length;
  d[base + 3] = own;
}

function walkScope(
  r: ProtoReader,
  end: number,
  resource: number,
  shape: SignalShape,
  ctx: SplitContext,
): void {
  r.enter();
  const scope = scopes.length;
  const base = scopes.add();
  const from = scopePieces.length;
  let mid = -1;
  let own = 0;
  while (r.pos < end) {
    const start = r.pos;
    const tag = r.tag();
    if (tag === 0x12) {
      if (mid < 0) mid = scopePieces.length;
      const e = r.len(end, tag);
      const partition = shape.walkItem(r, e, ctx);
      if (partition >= 0) {
        const i = items.add();
        const d = items.data;
        d[i] = start;
        d[i + 1] = e;
        d[i + 2] = partition;
        d[i + 3] = scope;
      } else {
        ctx.rejected[-partition - 1]++;
      }
      continue;
    }
    if (tag === 0x0a) validateScope(r, r.len(end, tag));
    else if (tag === 0x1a) validateString(r, end, tag, shape.scopeSchemaUrl);
    else r.skip(tag, end, CONTAINER, shape.scope);
    const p = scopePieces.add();
    scopePieces.data[p] = start;
    scopePieces.data[p + 1] = r.pos;
    own += r.pos - start;
  }
  r.finish(end, shape.scope);
  r.leave();
  const d = scopes.data;
  d[base] = resource;
  d[base + 1] = from;
  d[base + 2] = mid < 0 ? scopePieces.length : mid;
  d[base + 3] = scopePieces.length;
  d[base + 4] = own;
}

/** Groups accepted items by partition (stable) and writes one request per partition. */
function frame(bytes: Uint8Array, partitions: number): RawPart[] {
  const n = items.length;
  if (n === 0) return [];
  const it = items.data;

  if (partCursor.length < partitions) partCursor = new Int32Array(partitions);
  if (order.length < n) order = new Int32Array(n * 2);
  if (tape.length < 2 * n) tape = new Int32Array(n * 4);

  // Counting sort by partition; `distinct` lists the partitions present.
  let k = 0;
  for (let i = 0; i < n; i++) {
    const p = it[i * 4 + 2];
    if (partCursor[p]++ === 0) {
      if (k === distinct.length) {
        const next = new Int32Array(k * 2);
        next.set(distinct);
        distinct = next;
      }
      distinct[k++] = p;
    }
  }
  const present = distinct.subarray(0, k).sort();
  const counts = new Int32Array(k);
  let offset = 0;
  for (let j = 0; j < k; j++) {
    const p = present[j];
    counts[j] = partCursor[p];
    partCursor[p] = offset;
    offset += counts[j];
  }
  for (let i = 0; i < n; i++) order[partCursor[it[i * 4 + 2]]++] = i;
  for (let j = 0; j < k; j++) partCursor[present[j]] = 0;

  const src = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: RawPart[] = new Array<RawPart>(k);
  let from = 0;
  for (let j = 0; j < k; j++) {
    const to = from + counts[j];
    parts[j] = { partition: present[j], bytes: writePart(src, from, to), count: counts[j] };
    from = to;
  }
  return parts;
}

/** Writes the request holding items order[from..to) (one partition, document order). */
function writePart(src: Buffer, from: number, to: number): Uint8Array {
  const it = items.data;
  const sc = scopes.data;
  const rs = resources.data;
  const sp = scopePieces.data;
  const rp = resourcePieces.data;

  // Size pass: container lengths go on the tape in the order the write pass needs them.
  let total = 0;
  let ti = 0;
  for (let i = from; i < to;) {
    const resource = sc[it[order[i] * 4 + 3] * 5];
    const resourceSlot = ti++;
    let resourceLen = rs[resource * 4 + 3];
    while (i < to) {
      const scope = it[order[i] * 4 + 3];
      if (sc[scope * 5] !== resource) break;
      let scopeLen = sc[scope * 5 + 4];
      while (i < to) {
        const item = order[i] * 4;
        if (it[item + 3] !== scope) break;
        scopeLen += it[item + 1] - it[item];
        i++;
      }
      tape[ti++] = scopeLen;
      resourceLen += 1 + varintSize(scopeLen) + scopeLen;
    }
    tape[resourceSlot] = resourceLen;
    total += 1 + varintSize(resourceLen) + resourceLen;
  }

  const nodeOut = Buffer.allocUnsafeSlow(total);
  const out = new Uint8Array(nodeOut.buffer, nodeOut.byteOffset, total);
  let pos = 0;
  ti = 0;
  for (let i = from; i < to;) {
    const resource = sc[it[order[i] * 4 + 3] * 5];
    out[pos++] = 0x0a;
    pos = putVarint(out, pos, tape[ti++]);
    const rb = resource * 4;
    for (let q = rs[rb]; q < rs[rb + 1]; q++) pos += src.copy(out, pos, rp[q * 2], rp[q * 2 + 1]);
    while (i < to) {
      const scope = it[order[i] * 4 + 3];
      if (sc[scope * 5] !== resource) break;
      out[pos++] = 0x12;
      pos = putVarint(out, pos, tape[ti++]);
      const sb = scope * 5;
      for (let q = sc[sb + 1]; q < sc[sb + 2]; q++) {
        pos += src.copy(out, pos, sp[q * 2], sp[q * 2 + 1]);
      }
      while (i < to) {
        const item = order[i] * 4;
        if (it[item + 3] !== scope) break;
        pos += src.copy(out, pos, it[item], it[item + 1]);
        i++;
      }
      for (let q = sc[sb + 2]; q < sc[sb + 3]; q++) {
        pos += src.copy(out, pos, sp[q * 2], sp[q * 2 + 1]);
      }
    }
    for (let q = rs[rb + 1]; q < rs[rb + 2]; q++)
      pos += src.copy(out, pos, rp[q * 2], rp[q * 2 + 1]);
  }
  if (pos !== total) throw new Error(`split size pass (${total}) and write pass (${pos}) disagree`);
  return out;
}

function putVarint(out: Uint8Array, pos: number, v: number): number {
  while (v > 0x7f) {
    out[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  out[pos++] = v;
  return pos;
}

/** True when the `n` bytes at `offset` are all zero. */
export function allZero(buf: Uint8Array, offset: number, n: number): boolean {
  for (let i = offset, end = offset + n; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}
