/**
 * Every query and mutation of the admin API declares who may call it: `@Authorize(action,
 * subject, { tenantArg })` or `@Public()`. The global guard (authorization.guard.ts) refuses a
 * resolver that has neither (fail closed), and test/integration/admin-coverage.spec.ts proves
 * that every field of the built schema is covered.
 *
 * `tenantArg` names the argument (or a dotted path into an input object, e.g.
 * 'input.tenantId') holding the id of the tenant the operation acts in; the guard checks the
 * ability against that tenant before the resolver runs. A null/absent value there means the
 * platform scope, which only platform admins hold. Without `tenantArg` the guard only checks
 * that some rule allows the action (list queries), and the resolver must narrow its Prisma
 * `where` with `accessibleWhere(actor.ability, action, subject)`.
 */
import { SetMetadata, applyDecorators } from '@nestjs/common';
import type { AdminAction, AdminSubject } from './abilities';

export type { AdminAction, AdminSubject } from './abilities';

export const AUTHORIZE_METADATA = 'custodian:admin:authorize';
export const PUBLIC_METADATA = 'custodian:admin:public';

export interface AuthorizeOptions {
  /** Argument (or dotted input path) holding the target tenant's id. */
  tenantArg?: string;
}

export interface AuthorizeRequirement extends AuthorizeOptions {
  action: AdminAction;
  subject: AdminSubject;
}

export function Authorize(
  action: AdminAction,
  subject: AdminSubject,
  opts: AuthorizeOptions = {},
): MethodDecorator {
  const requirement: AuthorizeRequirement = { action, subject, ...opts };
  return applyDecorators(SetMetadata(AUTHORIZE_METADATA, requirement));
}

/** No sign-in needed (login, refresh). The actor is still resolved when a token is sent. */
export function Public(): MethodDecorator {
  return applyDecorators(SetMetadata(PUBLIC_METADATA, true));
}
