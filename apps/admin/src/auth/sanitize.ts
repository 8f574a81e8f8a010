/**
 * Output sanitizing by the same field rules that guard reads (Strapi's permitted-fields
 * approach; ../shared/CONVENTIONS.md, "Admin API"): a restricted field the caller may not read
 * comes back as '[RESTRICTED]' and is named in the row's `masked` list — never silently present
 * and never silently absent. GraphQL types that carry restricted fields expose
 * `masked: [String!]!` (see MaskedFields).
 */
import { Field, ObjectType } from '@nestjs/graphql';
import {
  RESTRICTED_FIELDS,
  subjectFor,
  type AdminAbility,
  type AdminAction,
  type AdminSubject,
} from './abilities';

export const RESTRICTED = '[RESTRICTED]';

/** Mix into a GraphQL object type whose rows go through `sanitize`. */
@ObjectType({ isAbstract: true })
export abstract class MaskedFields {
  @Field(() => [String], {
    description: `Fields of this object replaced by "${RESTRICTED}" because the caller may not see them.`,
  })
  masked!: string[];
}

export interface SanitizeOptions {
  /** Defaults to RESTRICTED_FIELDS[subject]. */
  fields?: readonly string[];
  /** Defaults to 'read'. */
  action?: AdminAction;
}

/**
 * A copy of `row` with each restricted field the ability does not grant replaced by
 * RESTRICTED, plus `masked` naming them. The row's `tenantId` (or `id` for Tenant) is what the
 * rules' conditions match.
 */
export function sanitize<T extends Record<string, unknown>>(
  ability: AdminAbility,
  subject: AdminSubject,
  row: T,
  opts: SanitizeOptions = {},
): Omit<T, 'masked'> & { masked: string[] } {
  const fields = opts.fields ?? RESTRICTED_FIELDS[subject] ?? [];
  const tenantId = (subject === 'Tenant' ? row.id : row.tenantId) as string | null | undefined;
  const instance = subjectFor(subject, tenantId ?? null, row);
  const out: Record<string, unknown> = { ...row };
  const masked: string[] = [];
  for (const field of fields) {
    if (!(field in row)) continue;
    if (!ability.can(opts.action ?? 'read', instance, field)) {
      out[field] = RESTRICTED;
      masked.push(field);
    }
  }
  out.masked = masked;
  return out as Omit<T, 'masked'> & { masked: string[] };
}
