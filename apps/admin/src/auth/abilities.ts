/**
 * The one ability factory of the admin API (../shared/CONVENTIONS.md, "Admin API"; issue #6
 * item 2). An actor's memberships become CASL rules with a tenant condition on every subject,
 * so the same rules answer "may this actor do X in tenant T?" (the guard), "which rows may it
 * list?" (`accessibleWhere`, through @casl/prisma's `accessibleBy`) and "which fields may it
 * see?" (`sanitize`, field rules). Conditions are Prisma `where` fragments, interpreted in
 * memory by @casl/prisma for single checks.
 *
 * Role matrix (per tenant; platform admins may do everything in every tenant):
 *
 * | subject        | owner | admin          | security          | operator                 | analyst    | viewer |
 * |----------------|-------|----------------|-------------------|--------------------------|------------|--------|
 * | Tenant         | r u   | r u            | r                 | r                        | r          | r      |
 * | Membership     | crud¹ | crud¹          | r                 | r                        | r          | r      |
 * | ServiceToken   | crud¹ | crud¹          | –                 | –                        | –          | –      |
 * | ApiKey         | crud  | crud           | r                 | crud                     | –          | r      |
 * | PolicyVersion  | cr activate | cr activate | cr activate  | cr activate² (no redaction) | r       | r      |
 * | Sink           | crud  | crud           | r                 | crud                     | –          | r      |
 * | DeadLetter     | r redrive d | r redrive d | r              | r redrive d              | –          | –      |
 * | Usage          | r     | r              | r                 | r                        | r          | r      |
 * | Trace          | r reveal | r           | r reveal          | r                        | r (masked) | –      |
 * | AuditEvent     | r     | r (ip, user agent masked) | r      | –                        | –          | –      |
 * | User           | own record only (read, change password), for every role                            |
 *
 * ¹ only an owner may grant, change or remove the owner role (checked by the memberships
 *   service, because it depends on the role being granted, not only on the tenant).
 * ² operators manage sampling, routes, retention and attributes; a version that changes the
 *   `redaction` section needs the `redaction` field: `ability.can('activate',
 *   subject('PolicyVersion', { tenantId }), 'redaction')` is false for operators.
 *
 * `manage` is CASL's "every action": only platform admins hold it, so `@Authorize('manage', …)`
 * marks a platform-only operation (creating tenants, verifying the platform audit chain).
 */
import { subject as caslSubject, type Ability } from '@casl/ability';
import { accessibleBy, createPrismaAbility } from '@casl/prisma/runtime';

export const ADMIN_ACTIONS = [
  'read',
  'create',
  'update',
  'delete',
  'manage',
  'activate',
  'reveal',
  'redrive',
] as const;
export type AdminAction = (typeof ADMIN_ACTIONS)[number];

export const ADMIN_SUBJECTS = [
  'Tenant',
  'Membership',
  'ApiKey',
  'PolicyVersion',
  'Sink',
  'DeadLetter',
  'Usage',
  'Trace',
  'AuditEvent',
  'User',
  'ServiceToken',
] as const;
export type AdminSubject = (typeof ADMIN_SUBJECTS)[number];

/** Roles a user holds within one tenant (prisma/schema.prisma enum TenantRole). */
export const TENANT_ROLES = [
  'owner',
  'admin',
  'security',
  'operator',
  'analyst',
  'viewer',
] as const;
export type TenantRole = (typeof TENANT_ROLES)[number];

/** A subject instance: its type plus the attributes the conditions look at. */
export type AdminSubjectObject = Record<string, unknown> & {
  readonly __caslSubjectType__?: string;
};

/** Conditions are Prisma `where` fragments (`{ tenantId: '…' }`, `{ id: { in: […] } }`). */
export type AdminConditions = Record<string, unknown>;
export type AdminAbility = Ability<
  [AdminAction, AdminSubject | AdminSubjectObject | 'all'],
  AdminConditions
>;

/**
 * Fields that are masked unless a rule grants them (Strapi's permitted-fields approach): the
 * sanitizer checks exactly these. Other modules add their own restricted fields here.
 */
export const RESTRICTED_FIELDS: Partial<Record<AdminSubject, readonly string[]>> = {
  AuditEvent: ['ip', 'userAgent'],
  /** `restricted`: values a redaction rule marked `restrict` (shown only after a reveal). */
  Trace: ['restricted'],
};

export interface AbilityInput {
  readonly id: string;
  readonly isPlatformAdmin: boolean;
  readonly memberships: readonly { readonly tenantId: string; readonly role: TenantRole }[];
}

interface RawRule {
  action: AdminAction | AdminAction[];
  subject: AdminSubject | AdminSubject[] | 'all';
  conditions?: AdminConditions;
  fields?: string[];
  inverted?: boolean;
}

const CRUD: AdminAction[] = ['read', 'create', 'update', 'delete'];
const POLICY_FIELDS_WITHOUT_REDACTION = ['attributes', 'sampling', 'retention', 'routes'];

/** Rules one role grants within one tenant (the matrix above). */
function roleRules(role: TenantRole, tenantId: string): RawRule[] {
  const t = { tenantId };
  const tenant = { id: tenantId };
  const read = (subjects: AdminSubject[]): RawRule => ({
    action: 'read',
    subject: subjects,
    conditions: t,
  });
  switch (role) {
    case 'owner':
    case 'admin': {
      const rules: RawRule[] = [
        { action: ['read', 'update'], subject: 'Tenant', conditions: tenant },
        { action: CRUD, subject: ['Membership', 'ServiceToken', 'ApiKey', 'Sink'], conditions: t },
        { action: ['read', 'create', 'activate'], subject: 'PolicyVersion', conditions: t },
        { action: ['read', 'redrive', 'delete'], subject: 'DeadLetter', conditions: t },
        read(['Usage', 'Trace', 'AuditEvent']),
      ];
      if (role === 'owner') rules.push({ action: 'reveal', subject: 'Trace', conditions: t });
      else {
        rules.push({
          action: 'read',
          subject: 'AuditEvent',
          fields: [...(RESTRICTED_FIELDS.AuditEvent ?? [])],
          conditions: t,
          inverted: true,
        });
      }
      return rules;
    }
    case 'security':
      return [
        { action: 'read', subject: 'Tenant', conditions: tenant },
        read(['Membership', 'ApiKey', 'Sink', 'DeadLetter', 'Usage', 'Trace', 'AuditEvent']),
        { action: ['read', 'create', 'activate'], subject: 'PolicyVersion', conditions: t },
        { action: 'reveal', subject: 'Trace', conditions: t },
      ];
    case 'operator':
      return [
        { action: 'read', subject: 'Tenant', conditions: tenant },
        read(['Membership', 'Usage', 'Trace', 'PolicyVersion']),
        { action: CRUD, subject: ['ApiKey', 'Sink'], conditions: t },
        {
          action: ['create', 'activate'],
          subject: 'PolicyVersion',
          fields: POLICY_FIELDS_WITHOUT_REDACTION,
          conditions: t,
        },
        { action: ['read', 'redrive', 'delete'], subject: 'DeadLetter', conditions: t },
      ];
    case 'analyst':
      return [
        { action: 'read', subject: 'Tenant', conditions: tenant },
        read(['Membership', 'Usage', 'Trace', 'PolicyVersion']),
        {
          action: 'read',
          subject: 'Trace',
          fields: [...(RESTRICTED_FIELDS.Trace ?? [])],
          conditions: t,
          inverted: true,
        },
      ];
    case 'viewer':
      return [
        { action: 'read', subject: 'Tenant', conditions: tenant },
        read(['Membership', 'ApiKey', 'PolicyVersion', 'Sink', 'Usage']),
      ];
  }
}

/** The CASL rules of an actor (exported for tests and docs). */
export function rulesFor(actor: AbilityInput): RawRule[] {
  if (actor.isPlatformAdmin) return [{ action: 'manage', subject: 'all' }];
  // Everyone may read their own user record and change their own password.
  const rules: RawRule[] = [
    { action: ['read', 'update'], subject: 'User', conditions: { id: actor.id } },
  ];
  // Grants first, then the inverted field rules: CASL gives later rules precedence.
  const grants: RawRule[] = [];
  const denials: RawRule[] = [];
  for (const m of actor.memberships) {
    for (const r of roleRules(m.role, m.tenantId)) (r.inverted ? denials : grants).push(r);
  }
  // A field denial of one role must not hide a field another role of the same actor in the
  // same tenant grants; an actor holds one role per tenant (unique membership), so it cannot.
  return [...rules, ...grants, ...denials];
}

export function defineAbilityFor(actor: AbilityInput): AdminAbility {
  return createPrismaAbility(rulesFor(actor)) as unknown as AdminAbility;
}

/**
 * A subject instance for checks: `subjectFor('ApiKey', tenantId)`. Tenant rules match on
 * `id`, every other subject on `tenantId`; a null tenant means the platform scope (matched only
 * by platform admins' unconditional rule).
 */
export function subjectFor(
  type: AdminSubject,
  tenantId: string | null,
  attrs: Record<string, unknown> = {},
): AdminSubjectObject {
  const base: Record<string, unknown> =
    type === 'Tenant' ? { id: tenantId, tenantId } : { tenantId };
  return caslSubject(type, { ...attrs, ...base }) as AdminSubjectObject;
}

/**
 * The Prisma `where` fragment of the rows `ability` may `action` on `model` (CASL's
 * accessibleBy). AND it with the query's own filters; an ability with no rule for the model
 * yields `{ OR: [] }`, which matches nothing.
 */
export function accessibleWhere(
  ability: AdminAbility,
  action: AdminAction,
  model: AdminSubject,
): Record<string, unknown> {
  // accessibleBy's types want the generated client's TypeMap; the rules are plain where
  // fragments (above), so the untyped record is what the callers AND into their where.
  const records = accessibleBy(ability as never, action as never) as unknown as {
    ofType(type: string): Record<string, unknown>;
  };
  return records.ofType(model);
}
