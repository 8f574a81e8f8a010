import { accessibleWhere, defineAbilityFor, subjectFor, type TenantRole } from './abilities';
import { RESTRICTED, sanitize } from './sanitize';

const A = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const B = 'bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb';
const as = (role: TenantRole, tenantId = A) =>
  defineAbilityFor({ id: 'u', isPlatformAdmin: false, memberships: [{ tenantId, role }] });

describe('defineAbilityFor', () => {
  it('conditions every grant on the tenant', () => {
    const owner = as('owner');
    expect(owner.can('delete', subjectFor('ApiKey', A))).toBe(true);
    expect(owner.can('delete', subjectFor('ApiKey', B))).toBe(false);
    expect(owner.can('read', subjectFor('Tenant', A))).toBe(true);
    expect(owner.can('read', subjectFor('Tenant', B))).toBe(false);
    expect(owner.can('read', subjectFor('AuditEvent', null))).toBe(false);
  });

  it('keeps platform-only actions to platform admins', () => {
    const pa = defineAbilityFor({ id: 'p', isPlatformAdmin: true, memberships: [] });
    for (const role of ['owner', 'admin'] as const) {
      expect(as(role).can('create', 'Tenant')).toBe(false);
      expect(as(role).can('manage', subjectFor('Tenant', A))).toBe(false);
    }
    expect(pa.can('create', 'Tenant')).toBe(true);
    expect(pa.can('manage', subjectFor('Tenant', B))).toBe(true);
    expect(pa.can('read', subjectFor('AuditEvent', null))).toBe(true);
  });

  it('matches the documented matrix for traces, reveals, policies and the audit log', () => {
    const t = (role: TenantRole) => ({
      trace: as(role).can('read', subjectFor('Trace', A)),
      reveal: as(role).can('reveal', subjectFor('Trace', A)),
      activate: as(role).can('activate', subjectFor('PolicyVersion', A)),
      redaction: as(role).can('activate', subjectFor('PolicyVersion', A), 'redaction'),
      audit: as(role).can('read', subjectFor('AuditEvent', A)),
      sinks: as(role).can('update', subjectFor('Sink', A)),
    });
    expect(t('owner')).toEqual({
      trace: true,
      reveal: true,
      activate: true,
      redaction: true,
      audit: true,
      sinks: true,
    });
    expect(t('admin')).toEqual({
      trace: true,
      reveal: false,
      activate: true,
      redaction: true,
      audit: true,
      sinks: true,
    });
    expect(t('security')).toEqual({
      trace: true,
      reveal: true,
      activate: true,
      redaction: true,
      audit: true,
      sinks: false,
    });
    expect(t('operator')).toEqual({
      trace: true,
      reveal: false,
      activate: true,
      redaction: false,
      audit: false,
      sinks: true,
    });
    expect(t('analyst')).toEqual({
      trace: true,
      reveal: false,
      activate: false,
      redaction: false,
      audit: false,
      sinks: false,
    });
    expect(t('viewer')).toEqual({
      trace: false,
      reveal: false,
      activate: false,
      redaction: false,
      audit: false,
      sinks: false,
    });
  });

  it('builds a Prisma where of the tenants the actor may read', () => {
    const multi = defineAbilityFor({
      id: 'u',
      isPlatformAdmin: false,
      memberships: [
        { tenantId: A, role: 'viewer' },
        { tenantId: B, role: 'owner' },
      ],
    });
    expect(accessibleWhere(multi, 'read', 'ApiKey')).toEqual({
      OR: [{ tenantId: B }, { tenantId: A }],
    });
    expect(accessibleWhere(as('viewer'), 'read', 'AuditEvent')).toEqual({ OR: [] });
  });
});

describe('sanitize', () => {
  const row = { seq: '1', tenantId: A, ip: '10.0.0.1', userAgent: 'curl', action: 'x' };

  it('masks restricted fields the role may not read, and names them', () => {
    expect(sanitize(as('admin'), 'AuditEvent', row)).toEqual({
      ...row,
      ip: RESTRICTED,
      userAgent: RESTRICTED,
      masked: ['ip', 'userAgent'],
    });
    expect(sanitize(as('owner'), 'AuditEvent', row)).toEqual({ ...row, masked: [] });
  });

  it('masks trace restricted values for analysts only', () => {
    const span = { tenantId: A, restricted: { 'user.email': 'a@b.c' } };
    expect(sanitize(as('analyst'), 'Trace', span).masked).toEqual(['restricted']);
    expect(sanitize(as('security'), 'Trace', span).masked).toEqual([]);
  });
});
