/**
 * @custodian/audit — the audit log's tamper evidence: canonical serialization, per-tenant hash
 * chains and their verification. Pure (no framework, no I/O); the writer lives in apps/admin
 * (AdminAudit), which serializes appends per chain in PostgreSQL.
 */
export {
  auditEventHash,
  canonicalAuditEvent,
  canonicalJson,
  chainKey,
  genesisHash,
  verifyChain,
  ChainVerifier,
  type AuditRecord,
  type ChainedAuditRecord,
  type ChainVerification,
} from './chain';
export {
  AUDIT_SCOPE_NAME,
  AUDIT_SERVICE_NAME,
  auditEventToLogRecord,
  auditEventsToLogs,
} from './otlp-logs';
