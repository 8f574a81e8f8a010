/**
 * Reading a request body safely: the declared length is checked before reading, the bytes read
 * are counted while streaming, and gzip is inflated with a hard cap on the output, so neither a
 * huge body nor a gzip bomb can make the gateway allocate more than the tenant's limit.
 */
import type { IncomingMessage } from 'node:http';
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { IngestError } from '../ingest/ingest-error';

const gunzipAsync = promisify(gunzip);

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new IngestError(
      'payload_too_large',
      `request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`,
    );
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new IngestError(
        'payload_too_large',
        `request body exceeds the limit of ${maxBytes} bytes`,
      );
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

export async function decodeContent(
  body: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Promise<Buffer> {
  const enc = (encoding ?? 'identity').trim().toLowerCase();
  if (enc === 'identity' || enc === '') return body;
  if (enc !== 'gzip') {
    throw new IngestError(
      'unsupported_media_type',
      `unsupported Content-Encoding "${enc}"; use gzip or none`,
    );
  }
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new IngestError(
        'payload_too_large',
        `decompressed body exceeds the limit of ${maxBytes} bytes`,
      );
    }
    throw new IngestError('invalid_argument', 'malformed gzip body');
  }
}
