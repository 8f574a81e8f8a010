/**
 * The names of audit events (issue #6 item 4). One union, so a typo is a compile error and the
 * audit log's vocabulary is listed in one place; the policies, sinks, traces and dead-letter
 * modules own their `policy.*`, `sink.*`, `trace.*` and `dead_letter.*` names.
 */
export type AuditAction =
  | 'auth.login'
  | 'auth.login_failed'
  | 'auth.refresh'
  | 'auth.refresh_reuse'
  | 'auth.logout'
  | 'authz.denied'
  | 'user.bootstrap'
  | 'user.password_change'
  | 'service_token.create'
  | 'service_token.revoke'
  | 'tenant.create'
  | 'tenant.update'
  | 'tenant.suspend'
  | 'tenant.resume'
  | 'membership.add'
  | 'membership.update'
  | 'membership.remove'
  | 'api_key.create'
  | 'api_key.revoke'
  | 'audit.export'
  | 'audit.verify'
  | 'audit.stream_configure'
  | 'audit.stream_disable'
  | `policy.${string}`
  | `sink.${string}`
  | `trace.${string}`
  | `dead_letter.${string}`
  | `usage.${string}`;

export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditEventInput {
  action: AuditAction;
  /** The tenant the event belongs to (its chain); null for platform-level events. */
  tenantId: string | null;
  targetType?: string;
  targetId?: string;
  /** Field names involved (revealed fields, changed fields). */
  fields?: string[];
  /** Why (a reveal's reason, a denial's explanation). */
  reason?: string;
  outcome?: AuditOutcome;
  /** Anything else worth keeping; never secrets. */
  details?: Record<string, unknown>;
}
