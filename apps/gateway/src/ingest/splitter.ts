/**
 * The protocol-independent view of libs/otlp's wire scanners: for one Export*ServiceRequest in
 * protobuf, the records to produce (one per partition) and the items rejected, by reason.
 */
import type { OtlpRecord, Signal } from '@custodian/bus';

export interface SplitOptions {
  partitions: number;
  tenantId: string;
  maxAttributes: number;
  maxAttributeValueBytes: number;
}

export interface SplitResult {
  parts: OtlpRecord[];
  accepted: number;
  rejected: number;
  rejectReasons: Record<string, number>;
}

export interface OtlpSplitter {
  /** Throws IngestError('invalid_argument') for a malformed message. */
  split(signal: Signal, protobuf: Uint8Array, opts: SplitOptions): SplitResult;
}
