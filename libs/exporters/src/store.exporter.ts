/**
 * The `store` sink: Custodian's own trace store in PostgreSQL (issue #5 item 4; libs/store).
 *
 * It is cleared for restricted values by nature: it is the one place they are meant to be
 * kept, encrypted per tenant (libs/store keyring.ts), and the default routes send everything to
 * it with `restricted_fields: true`.
 *
 * Traces are stored. Logs and metrics are not kept by the store: a batch of them is answered
 * with every item `rejected` (counted by delivery as rejected for this sink, with the reason
 * in the message) instead of being dead-lettered, since retrying cannot change the answer —
 * the default route sends all signals to `store`.
 *
 * Errors are classified on PostgreSQL's SQLSTATE: data and integrity errors (classes 22, 23:
 * e.g. the tenant no longer exists) and a tenant key that cannot be decrypted are permanent;
 * connection loss, timeouts, shutdowns, lock and serialization failures, and anything
 * unrecognized (a missing partition table while an operator migrates) are retryable.
 */
import { decodeTraces, type TracesData } from '@custodian/otlp';
import { ExportError } from './export-error';
import type { ExportBatch, ExportOutcome, ExportSignal, SinkExporter } from './sink-exporter';

/** What the exporter needs of libs/store's TraceStore. */
export interface TraceStoreWriter {
  write(
    tenantId: string,
    data: TracesData,
  ): Promise<{ inserted: number; duplicates: number; invalid: number }>;
}

export interface StoreWriteReport {
  tenantId: string;
  inserted: number;
  duplicates: number;
  invalid: number;
}

export interface StoreExporterOptions {
  /** Called after every successful write (metrics: inserted, duplicates, invalid). */
  onWritten?: (report: StoreWriteReport) => void;
}

const PERMANENT_SQLSTATE_CLASSES = new Set(['22', '23']);

/** An error from `pg` (or the keyring) as an ExportError. */
export function classifyStoreError(err: unknown): ExportError {
  if (err instanceof ExportError) return err;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const message = typeof e?.message === 'string' ? e.message : String(err);
  if (e?.name === 'SecretDecryptionError' || e?.name === 'NoTenantKeyError') {
    return new ExportError(`store: ${message}`, false, undefined, { cause: err });
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^[0-9A-Z]{5}$/.test(code) && PERMANENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) {
    return new ExportError(`store: ${message} (SQLSTATE ${code})`, false, undefined, {
      cause: err,
    });
  }
  return new ExportError(`store: ${message}${code ? ` (${code})` : ''}`, true, undefined, {
    cause: err,
  });
}

export class StoreExporter implements SinkExporter {
  readonly kind = 'store';

  constructor(
    private readonly tenantId: string,
    private readonly writer: TraceStoreWriter,
    private readonly opts: StoreExporterOptions = {},
  ) {}

  supports(_signal: ExportSignal): boolean {
    return true;
  }

  async export(batch: ExportBatch): Promise<ExportOutcome> {
    if (batch.signal !== 'traces') {
      return {
        rejected: batch.items,
        message: `the trace store keeps traces only; ${batch.signal} are not stored`,
      };
    }
    let data: TracesData;
    try {
      data = (batch.data as TracesData | undefined) ?? decodeTraces(batch.protobuf);
    } catch (err) {
      throw new ExportError(`store: undecodable batch: ${(err as Error).message}`, false);
    }
    let result: { inserted: number; duplicates: number; invalid: number };
    try {
      result = await this.writer.write(this.tenantId, data);
    } catch (err) {
      throw classifyStoreError(err);
    }
    this.opts.onWritten?.({ tenantId: this.tenantId, ...result });
    return result.invalid > 0
      ? { rejected: result.invalid, message: `${result.invalid} spans with invalid ids` }
      : { rejected: 0 };
  }

  async close(): Promise<void> {
    // The pool belongs to the worker, shared by every tenant's store sink.
  }
}
