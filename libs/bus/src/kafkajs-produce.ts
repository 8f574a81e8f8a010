/**
 * kafkajs's Produce request body (versions 3 to 7, which share one layout), written in one pass
 * into one buffer of the exact size.
 *
 * kafkajs builds it from nested Encoders: an Encoder per record and per record header (5 headers
 * per record here), a Buffer.from per varint (kafkajs's writeUVarInt), BigInt arithmetic per
 * record for its zero timestamp delta, and then copies of the records into the array to compress,
 * of the compressed records into the batch body, the batch, the length-prefixed batch, the
 * partition entry, the topic entry and the request: bench/compare's profile had that encoding at
 * ~37% of all kafkajs CPU (9% of the gateway+worker process), with the bytes it allocated
 * driving V8's external-memory scavenges. Here the records are written once (each distinct
 * header set encoded once per request and copied per record), compressed with the same codec,
 * and the request body is written once around them.
 *
 * Same bytes as kafkajs: kafkajs-produce.spec.ts compares both encoders on random requests,
 * byte for byte, and the integration tests produce through it to a real broker. Only the shape
 * Custodian sends takes this path: records without their own timestamp, with Buffer (or null)
 * keys and values and headers of strings or Buffers, one value per header; anything else (and
 * any kafkajs version without these modules) goes through kafkajs's own encoder unchanged.
 */
import { kafkajsInternal } from './kafkajs-internals';

/**
 * CRC-32C of each record batch: @node-rs/crc32's native one (SSE 4.2 / ARMv8 CRC instructions,
 * ~0.2 ns per byte here) where its prebuilt binary loads, else kafkajs's own JavaScript table
 * loop (~2.2 ns per byte once optimized, and far more before: at 2k spans/s in bench/compare it
 * was 14% of all kafkajs CPU). Both give the same checksums (kafkajs-produce.spec.ts).
 */
export function nativeCrc32c(): ((b: Buffer) => number) | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { crc32c } = require('@node-rs/crc32') as { crc32c(b: Buffer): number };
    return (b) => crc32c(b) >>> 0;
  } catch {
    return undefined;
  }
}

interface KafkajsEncoder {
  buf: Buffer;
  offset: number;
}

interface Message {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, unknown>;
  timestamp?: string | number | null;
}

interface PartitionData {
  partition: number;
  firstSequence?: number;
  messages: Message[];
}

interface TopicData {
  topic: string;
  partitions: PartitionData[];
}

interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  /** kafkajs passes the broker's id as a string; a Long, number or bigint is read the same way. */
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: TopicData[];
}

interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<KafkajsEncoder>;
}

type ProduceProtocol = (args: ProduceArgs) => { request: ProduceRequest; response: unknown };

interface ProduceModule {
  versions: string[];
  protocol: (v: { version: number }) => ProduceProtocol;
}

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer> | Buffer;
}

interface CompressionModule {
  lookupCodec(type: number): Codec;
  COMPRESSION_CODEC_MASK: number;
  Types: { None: number };
}

type EncoderClass = new () => KafkajsEncoder;

const TRANSACTIONAL = 16;
const MAGIC = 2;
/** Batch fields from attributes to the record count: 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4. */
const BATCH_BODY_HEAD = 40;
/** partitionLeaderEpoch, magic, crc. */
const BATCH_HEAD = 4 + 1 + 4;

/** Bytes of an unsigned LEB128 varint of a 32-bit value. */
function sizeUVarInt(v: number): number {
  v >>>= 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

/** kafkajs's signed varint: zigzag, then unsigned LEB128 (of the 32-bit pattern). */
function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function writeUVarInt(buf: Buffer, at: number, v: number): number {
  v >>>= 0;
  while (v >= 0x80) {
    buf[at++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[at++] = v;
  return at;
}

/** A varint-length-prefixed field: null → -1, a string as UTF-8, a Buffer as is. */
function fieldSize(v: Buffer | string | null | undefined): number {
  if (v == null) return 1; // zigzag(-1) = 1
  const n = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
  return sizeUVarInt(zigzag(n)) + n;
}

function writeField(buf: Buffer, at: number, v: Buffer | string | null | undefined): number {
  if (v == null) return writeUVarInt(buf, at, 1);
  if (typeof v === 'string') {
    const n = Buffer.byteLength(v, 'utf8');
    at = writeUVarInt(buf, at, zigzag(n));
    return at + buf.write(v, at, n, 'utf8');
  }
  at = writeUVarInt(buf, at, zigzag(v.length));
  return at + v.copy(buf, at);
}

/** Can this message be written here with exactly kafkajs's bytes? */
function plainMessage(m: Message): boolean {
  if (m.timestamp != null) return false; // kafkajs sorts and subtracts those; left to it
  if (!(m.value === null || Buffer.isBuffer(m.value))) return false;
  if (!(m.key == null || Buffer.isBuffer(m.key))) return false;
  const h = m.headers;
  if (h === undefined) return true;
  if (h === null || typeof h !== 'object') return false;
  for (const k in h) {
    if (!Object.prototype.hasOwnProperty.call(h, k)) return false;
    const v = h[k];
    if (!(typeof v === 'string' || Buffer.isBuffer(v))) return false;
  }
  return true;
}

/** The encoded header list of a headers object (count, then key and value of each). */
function encodeHeaders(h: Record<string, unknown> | undefined): Buffer {
  const keys = h ? Object.keys(h) : [];
  let size = sizeUVarInt(zigzag(keys.length));
  for (const k of keys) size += fieldSize(k) + fieldSize(h![k] as Buffer | string);
  const out = Buffer.allocUnsafe(size);
  let at = writeUVarInt(out, 0, zigzag(keys.length));
  for (const k of keys) {
    at = writeField(out, at, k);
    at = writeField(out, at, h![k] as Buffer | string);
  }
  return out;
}

/** The records of one partition, uncompressed, as kafkajs's Record v0 writes them. */
function encodeRecords(messages: Message[], headerCache: Map<object, Buffer>): Buffer {
  const headers: Buffer[] = new Array(messages.length);
  const bodies: number[] = new Array(messages.length);
  let total = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const hk = m.headers ?? EMPTY;
    let h = headerCache.get(hk);
    if (h === undefined) {
      h = encodeHeaders(m.headers);
      headerCache.set(hk, h);
    }
    headers[i] = h;
    // attributes (1), timestamp delta 0 as a varlong (1), offset delta, key, value, headers
    const body = 2 + sizeUVarInt(zigzag(i)) + fieldSize(m.key) + fieldSize(m.value) + h.length;
    bodies[i] = body;
    total += sizeUVarInt(zigzag(body)) + body;
  }
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    at = writeUVarInt(out, at, zigzag(bodies[i]));
    out[at++] = 0; // attributes
    out[at++] = 0; // timestamp delta
    at = writeUVarInt(out, at, zigzag(i));
    at = writeField(out, at, m.key);
    at = writeField(out, at, m.value);
    at += headers[i].copy(out, at);
  }
  return out;
}

const EMPTY = {};

interface EncodedPartition {
  partition: number;
  attributes: number;
  lastOffsetDelta: number;
  timestamp: number;
  firstSequence: number;
  count: number;
  records: Buffer;
}

/** kafkajs's Long (utils/long): its fromValue reads every form a producer id comes in. */
interface LongClass {
  fromValue(v: unknown): { value: bigint };
}

/**
 * The Produce request body (v3–v7) of `args`, or null when a message is not of the plain shape
 * (the caller then uses kafkajs's encoder).
 */
export async function encodeProduceBody(
  args: ProduceArgs,
  kafkajs: { compression: CompressionModule; crc32C: (b: Buffer) => number; Long: LongClass },
): Promise<Buffer | null> {
  const { compression, crc32C } = kafkajs;
  for (const t of args.topicData)
    for (const p of t.partitions) for (const m of p.messages) if (!plainMessage(m)) return null;
  const type = args.compression ?? compression.Types.None;
  const codec = type === compression.Types.None ? null : compression.lookupCodec(type);
  const transactional = !!args.transactionalId;
  const attributes =
    (type & compression.COMPRESSION_CODEC_MASK) | (transactional ? TRANSACTIONAL : 0);
  const headerCache = new Map<object, Buffer>();

  const topics: { topic: string; parts: EncodedPartition[] }[] = [];
  for (const t of args.topicData) {
    const parts: EncodedPartition[] = [];
    for (const p of t.partitions) {
      const timestamp = Date.now();
      const raw = encodeRecords(p.messages, headerCache);
      const records = codec ? await codec.compress({ buffer: raw }) : raw;
      parts.push({
        partition: p.partition,
        attributes,
        lastOffsetDelta: p.messages.length - 1,
        timestamp,
        firstSequence: p.firstSequence === undefined ? 0 : p.firstSequence,
        count: p.messages.length,
        records,
      });
    }
    topics.push({ topic: t.topic, parts });
  }

  const tid = args.transactionalId;
  let size = 2 + (tid == null ? 0 : Buffer.byteLength(tid, 'utf8')) + 2 + 4 + 4;
  for (const t of topics) {
    size += 2 + Buffer.byteLength(t.topic, 'utf8') + 4;
    for (const p of t.parts)
      size += 4 + 4 + 8 + 4 + BATCH_HEAD + BATCH_BODY_HEAD + p.records.length;
  }
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  if (tid == null) at = out.writeInt16BE(-1, at);
  else {
    at = out.writeInt16BE(Buffer.byteLength(tid, 'utf8'), at);
    at += out.write(tid, at, 'utf8');
  }
  at = out.writeInt16BE(args.acks, at);
  at = out.writeInt32BE(args.timeout, at);
  at = out.writeInt32BE(topics.length, at);
  // v3's default is Long.fromInt(-1); RecordBatch writes the id through Long.fromValue
  const producerId =
    args.producerId === undefined ? -1n : kafkajs.Long.fromValue(args.producerId).value;
  const producerEpoch = args.producerEpoch === undefined ? 0 : args.producerEpoch;
  for (const t of topics) {
    at = out.writeInt16BE(Buffer.byteLength(t.topic, 'utf8'), at);
    at += out.write(t.topic, at, 'utf8');
    at = out.writeInt32BE(t.parts.length, at);
    for (const p of t.parts) {
      const batchLength = BATCH_HEAD + BATCH_BODY_HEAD + p.records.length;
      at = out.writeInt32BE(p.partition, at);
      at = out.writeInt32BE(8 + 4 + batchLength, at); // record_set size
      at = out.writeBigInt64BE(0n, at); // first offset
      at = out.writeInt32BE(batchLength, at);
      at = out.writeInt32BE(0, at); // partition leader epoch
      out[at++] = MAGIC;
      const crcAt = at;
      at += 4;
      const bodyStart = at;
      at = out.writeInt16BE(p.attributes, at);
      at = out.writeInt32BE(p.lastOffsetDelta, at);
      at = out.writeBigInt64BE(BigInt(p.timestamp), at); // first timestamp
      at = out.writeBigInt64BE(BigInt(p.timestamp), at); // max timestamp
      at = out.writeBigInt64BE(BigInt.asIntN(64, producerId), at);
      at = out.writeInt16BE(producerEpoch, at);
      at = out.writeInt32BE(p.firstSequence, at);
      at = out.writeInt32BE(p.count, at);
      at += p.records.copy(out, at);
      out.writeUInt32BE(crc32C(out.subarray(bodyStart, at)), crcAt);
    }
  }
  return out;
}

let patched = false;

/**
 * Routes kafkajs's Produce requests of versions 3–7 through encodeProduceBody (false when this
 * kafkajs has not the modules it needs: then nothing is changed).
 */
export function patchKafkajsProduce(): boolean {
  if (patched) return true;
  const produce = kafkajsInternal<ProduceModule>('protocol/requests/produce');
  const compression = kafkajsInternal<CompressionModule>('protocol/message/compression');
  const crc32C =
    nativeCrc32c() ?? kafkajsInternal<(b: Buffer) => number>('protocol/recordBatch/crc32C');
  const Encoder = kafkajsInternal<EncoderClass>('protocol/encoder');
  const Long = kafkajsInternal<LongClass>('utils/long');
  if (
    typeof Long?.fromValue !== 'function' ||
    typeof produce?.protocol !== 'function' ||
    typeof compression?.lookupCodec !== 'function' ||
    typeof compression?.COMPRESSION_CODEC_MASK !== 'number' ||
    typeof crc32C !== 'function' ||
    typeof Encoder !== 'function'
  ) {
    return false;
  }
  const original = produce.protocol.bind(produce);
  produce.protocol = ({ version }) => {
    const make = original({ version });
    if (version < 3 || version > 7) return make;
    return (args) => {
      const made = make(args);
      const fallback = made.request.encode;
      made.request.encode = async () => {
        const body = await encodeProduceBody(args, { compression, crc32C, Long });
        if (body === null) return fallback();
        const e = new Encoder();
        e.buf = body;
        e.offset = body.length;
        return e;
      };
      return made;
    };
  };
  patched = true;
  return true;
}
