/**
 * Export{Trace,Logs,Metrics}ServiceResponse (collector/{trace,logs,metrics}/v1/*_service.proto): what the gateway
 * answers a successful export with, and what our OTLP exporters read back from sinks.
 *
 * The three are the same on the wire — partial_success = 1 holding rejected_<items> = 1
 * (int64) and error_message = 2 — so one codec serves all; `signal` only names the message in
 * errors. Per the OTLP spec a server sets partial_success only when it rejected something or
 * has a warning; passing no partialSuccess encodes the empty (fully successful) response.
 */
import type { PartialSuccess } from '../model';
import { fields } from './common';
import { ProtoReader } from './reader';
import { encodeMessage, int64Size, type ProtoWriter, type SizeTape, varintSize } from './writer';

export type OtlpSignal = 'traces' | 'logs' | 'metrics';

export interface ExportResponse {
  partialSuccess?: PartialSuccess;
}

const NAMES: Record<OtlpSignal, [string, string]> = {
  traces: ['ExportTraceServiceResponse', 'ExportTracePartialSuccess'],
  logs: ['ExportLogsServiceResponse', 'ExportLogsPartialSuccess'],
  metrics: ['ExportMetricsServiceResponse', 'ExportMetricsPartialSuccess'],
};

const RESPONSE = fields(1);
const PARTIAL = fields(1, 2);

export function encodeExportResponse(
  _signal: OtlpSignal,
  partialSuccess?: PartialSuccess,
): Uint8Array {
  return encodeMessage(partialSuccess, sizeResponse, writeResponse);
}

function partialSize(t: SizeTape, p: PartialSuccess): number {
  let n = 0;
  if (p.rejected !== 0n) n += 1 + int64Size(p.rejected);
  if (p.errorMessage.length > 0) n += 1 + t.str(p.errorMessage);
  return n;
}

function sizeResponse(t: SizeTape, p: PartialSuccess | undefined): number {
  if (p === undefined) return 0;
  const slot = t.reserve();
  const n = partialSize(t, p);
  t.set(slot, n);
  return 1 + varintSize(n) + n;
}

function writeResponse(w: ProtoWriter, p: PartialSuccess | undefined): void {
  if (p === undefined) return;
  w.byte(0x0a);
  w.fork();
  if (p.rejected !== 0n) {
    w.byte(0x08);
    w.int64(p.rejected);
  }
  if (p.errorMessage.length > 0) {
    w.byte(0x12);
    w.string(p.errorMessage);
  }
}

/** Decodes an Export*ServiceResponse; throws OtlpDecodeError on malformed input. */
export function decodeExportResponse(signal: OtlpSignal, bytes: Uint8Array): ExportResponse {
  const [responseName, partialName] = NAMES[signal];
  const r = new ProtoReader(bytes);
  const end = bytes.length;
  const out: ExportResponse = {};
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === 0x0a) {
      const e = r.len(end, tag);
      r.enter();
      const p: PartialSuccess = { rejected: 0n, errorMessage: '' };
      while (r.pos < e) {
        const t = r.tag();
        if (t === 0x08) p.rejected = r.int64();
        else if (t === 0x12) p.errorMessage = r.string(e, t, `${partialName}.error_message`, false);
        else r.skip(t, e, PARTIAL, partialName);
      }
      r.finish(e, partialName);
      r.leave();
      out.partialSuccess = p;
    } else {
      r.skip(tag, end, RESPONSE, responseName);
    }
  }
  r.finish(end, responseName);
  return out;
}
