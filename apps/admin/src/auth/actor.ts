/**
 * Who is calling the admin API: the identity the guard resolved from a bearer token (a user's
 * JWT or a service account's `cust_svc_…` token), its memberships and the CASL ability built
 * from them, plus the request facts every audit event carries (issue #6 item 4).
 */
import type { AdminAbility, TenantRole } from './abilities';

export type { AdminAbility, AdminAction, AdminSubject, TenantRole } from './abilities';

export interface ActorMembership {
  readonly tenantId: string;
  readonly role: TenantRole;
}

/** Request facts recorded with every audit event. */
export interface RequestMeta {
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The caller's `x-request-id` when it is sane, else one generated for this request. */
  readonly requestId: string;
}

export interface Actor {
  /** `user`: signed in with a password (JWT); `service`: a service account's token. */
  readonly kind: 'user' | 'service';
  /** The user's id (service accounts are users flagged `isServiceAccount`). */
  readonly id: string;
  readonly email: string;
  readonly isPlatformAdmin: boolean;
  readonly memberships: readonly ActorMembership[];
  readonly ability: AdminAbility;
  readonly meta: RequestMeta;
  /** The service token's public id when kind is `service`. */
  readonly tokenId?: string;
}

/** The role an actor holds in a tenant, if any. */
export function roleIn(actor: Actor, tenantId: string): TenantRole | undefined {
  return actor.memberships.find((m) => m.tenantId === tenantId)?.role;
}
