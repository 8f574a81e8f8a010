/**
 * A tenant's audit events as OTLP logs (issue #6 item 4: "optionally stream a tenant's audit
 * events to one of its sinks as OTLP logs"), so a tenant's SIEM or log backend receives who did
 * what next to its telemetry. One LogRecord per event, named `custodian.audit.<action>`; the
 * columns become attributes under the `custodian.audit.*` namespace, with the semantic
 * conventions' names where one exists (client.address, user_agent.original). The chain hashes
 * go along, so the receiver can verify what it got against `verifyAuditChain`. Reasons and
 * details are what the admin API stored — never secrets or revealed values (the reveal's event
 * names the field, not its value).
 */
import type { AnyValue, KeyValue, LogRecord, LogsData } from '@custodian/otlp';
import { canonicalJson, type ChainedAuditRecord } from './chain';

export const AUDIT_SCOPE_NAME = 'custodian.audit';
export const AUDIT_SERVICE_NAME = 'custodian-audit';

const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;

function kv(key: string, value: AnyValue): KeyValue {
  return { key, value };
}

function str(key: string, value: string | null | undefined, out: KeyValue[]): void {
  if (value !== null && value !== undefined && value !== '')
    out.push(kv(key, { stringValue: value }));
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** One audit event as a LogRecord. */
export function auditEventToLogRecord(event: ChainedAuditRecord): LogRecord {
  const attributes: KeyValue[] = [kv('custodian.audit.seq', { stringValue: String(event.seq) })];
  str('custodian.audit.action', event.action, attributes);
  str('custodian.audit.outcome', event.outcome, attributes);
  str('custodian.audit.actor.type', event.actorType, attributes);
  str('custodian.audit.actor.id', event.actorId, attributes);
  str('custodian.audit.target.type', event.targetType, attributes);
  str('custodian.audit.target.id', event.targetId, attributes);
  if (event.fields.length > 0)
    attributes.push(
      kv('custodian.audit.fields', {
        arrayValue: { values: event.fields.map((f) => ({ stringValue: f })) },
      }),
    );
  str('custodian.audit.reason', event.reason, attributes);
  str('client.address', event.ip, attributes);
  str('user_agent.original', event.userAgent, attributes);
  str('custodian.audit.request_id', event.requestId, attributes);
  const details = canonicalJson(event.details ?? {});
  if (details !== '{}' && details !== 'null') str('custodian.audit.details', details, attributes);
  str('custodian.audit.prev_hash', hex(event.prevHash), attributes);
  str('custodian.audit.hash', hex(event.hash), attributes);

  const time = BigInt(event.occurredAt.getTime()) * 1_000_000n;
  const actor = event.actorId ? `${event.actorType} ${event.actorId}` : event.actorType;
  return {
    timeUnixNano: time,
    observedTimeUnixNano: time,
    severityNumber: event.outcome === 'success' ? SEVERITY_INFO : SEVERITY_WARN,
    severityText: event.outcome === 'success' ? 'INFO' : 'WARN',
    body: { stringValue: `${event.action} ${event.outcome} by ${actor}` },
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: new Uint8Array(0),
    spanId: new Uint8Array(0),
    eventName: `custodian.audit.${event.action}`,
  };
}

/** A batch of one tenant's events (in seq order) as one OTLP logs request. */
export function auditEventsToLogs(
  tenant: { id: string; slug: string },
  events: readonly ChainedAuditRecord[],
): LogsData {
  return {
    resourceLogs: [
      {
        resource: {
          attributes: [
            kv('service.name', { stringValue: AUDIT_SERVICE_NAME }),
            kv('custodian.tenant.id', { stringValue: tenant.id }),
            kv('custodian.tenant.slug', { stringValue: tenant.slug }),
          ],
          droppedAttributesCount: 0,
        },
        scopeLogs: [
          {
            scope: {
              name: AUDIT_SCOPE_NAME,
              version: '',
              attributes: [],
              droppedAttributesCount: 0,
            },
            logRecords: events.map(auditEventToLogRecord),
            schemaUrl: '',
          },
        ],
        schemaUrl: '',
      },
    ],
  };
}
