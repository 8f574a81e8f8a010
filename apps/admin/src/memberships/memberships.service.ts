/**
 * Memberships: who holds which role in a tenant. Only owners (and platform admins) may grant,
 * change or remove the owner role, and a tenant never loses its last owner through the API.
 */
import { Injectable } from '@nestjs/common';
import { hashPassword, passwordProblems } from '@custodian/auth';
import { isUuid, PrismaService } from '@custodian/db';
import { AdminAudit } from '../audit/admin-audit.service';
import type { Actor } from '../auth/actor';
import { TENANT_ROLES, type TenantRole } from '../auth/abilities';
import { OWNER_ONLY, mayGrant, normalizeEmail } from '../auth/auth.service';
import { badInput, conflict, notFound } from '../auth/errors';
import type { AddMemberInput, MembershipView } from './memberships.types';

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

@Injectable()
export class MembershipsService {
  constructor(
    private readonly prisma: PrismaService,
    private readonly audit: AdminAudit,
  ) {}

  private get db() {
    return this.prisma.client;
  }

  async list(tenantId: string): Promise<MembershipView[]> {
    const rows = await this.db.membership.findMany({
      where: { tenantId },
      include: { user: true },
      orderBy: { createdAt: 'asc' },
    });
    return rows.map((m) => this.view(m));
  }

  private view(m: {
    id: string;
    tenantId: string;
    userId: string;
    role: TenantRole;
    createdAt: Date;
    user: { email: string; displayName: string | null; isServiceAccount: boolean };
  }): MembershipView {
    return {
      id: m.id,
      tenantId: m.tenantId,
      userId: m.userId,
      email: m.user.email,
      displayName: m.user.displayName,
      isServiceAccount: m.user.isServiceAccount,
      role: m.role,
      createdAt: m.createdAt,
    };
  }

  private async ownerOnly(actor: Actor, tenantId: string, operation: string, targetId?: string) {
    return this.audit.denied(actor, {
      tenantId,
      message: OWNER_ONLY,
      operation,
      targetType: 'Membership',
      targetId,
    });
  }

  async add(actor: Actor, input: AddMemberInput): Promise<MembershipView> {
    const email = normalizeEmail(input.email);
    const problems: string[] = [];
    if (!EMAIL.test(email)) problems.push('email: expected an email address');
    if (!(TENANT_ROLES as readonly string[]).includes(input.role)) problems.push('role: unknown');
    if (input.initialPassword) {
      problems.push(...passwordProblems(input.initialPassword).map((p) => `initialPassword: ${p}`));
    }
    if (problems.length > 0) throw badInput(`invalid member: ${problems.join('; ')}`, problems);
    if (!mayGrant(actor, input.tenantId, input.role)) {
      throw await this.ownerOnly(actor, input.tenantId, 'addMember');
    }
    let user = await this.db.user.findUnique({ where: { email } });
    let created = false;
    if (!user) {
      if (!input.initialPassword) {
        throw badInput(`no user has the email ${email}; pass initialPassword to create the user`, [
          'initialPassword: required to create a new user',
        ]);
      }
      user = await this.db.user.create({
        data: {
          email,
          displayName: input.displayName?.trim() || null,
          passwordHash: await hashPassword(input.initialPassword),
        },
      });
      created = true;
    }
    if (user.isServiceAccount) {
      throw badInput('service accounts get their role with createServiceToken');
    }
    const existing = await this.db.membership.findUnique({
      where: { userId_tenantId: { userId: user.id, tenantId: input.tenantId } },
    });
    if (existing) {
      throw conflict(`${email} is already a member (${existing.role}); use updateMemberRole`);
    }
    const m = await this.db.membership.create({
      data: { userId: user.id, tenantId: input.tenantId, role: input.role },
      include: { user: true },
    });
    await this.audit.record(actor, {
      action: 'membership.add',
      tenantId: input.tenantId,
      targetType: 'Membership',
      targetId: m.id,
      details: { userId: user.id, email, role: input.role, userCreated: created },
    });
    return this.view(m);
  }

  private async find(tenantId: string, userId: string) {
    if (!isUuid(userId)) throw badInput('userId: expected a user id (UUID)');
    const m = await this.db.membership.findUnique({
      where: { userId_tenantId: { userId, tenantId } },
      include: { user: true },
    });
    if (!m) throw notFound(`user ${userId} is not a member of tenant ${tenantId}`);
    return m;
  }

  private async assertNotLastOwner(tenantId: string, userId: string): Promise<void> {
    const owners = await this.db.membership.count({ where: { tenantId, role: 'owner' } });
    if (owners <= 1) {
      throw conflict(`user ${userId} is the tenant's last owner; make someone else owner first`);
    }
  }

  async updateRole(
    actor: Actor,
    tenantId: string,
    userId: string,
    role: TenantRole,
  ): Promise<MembershipView> {
    if (!(TENANT_ROLES as readonly string[]).includes(role)) throw badInput('role: unknown');
    const m = await this.find(tenantId, userId);
    if (!mayGrant(actor, tenantId, role) || !mayGrant(actor, tenantId, m.role)) {
      throw await this.ownerOnly(actor, tenantId, 'updateMemberRole', m.id);
    }
    if (m.role === 'owner' && role !== 'owner') await this.assertNotLastOwner(tenantId, userId);
    const updated = await this.db.membership.update({
      where: { id: m.id },
      data: { role },
      include: { user: true },
    });
    await this.audit.record(actor, {
      action: 'membership.update',
      tenantId,
      targetType: 'Membership',
      targetId: m.id,
      fields: ['role'],
      details: { userId, email: m.user.email, from: m.role, to: role },
    });
    return this.view(updated);
  }

  async remove(actor: Actor, tenantId: string, userId: string): Promise<MembershipView> {
    const m = await this.find(tenantId, userId);
    if (!mayGrant(actor, tenantId, m.role)) {
      throw await this.ownerOnly(actor, tenantId, 'removeMember', m.id);
    }
    if (m.role === 'owner') await this.assertNotLastOwner(tenantId, userId);
    await this.db.membership.delete({ where: { id: m.id } });
    await this.audit.record(actor, {
      action: 'membership.remove',
      tenantId,
      targetType: 'Membership',
      targetId: m.id,
      details: { userId, email: m.user.email, role: m.role },
    });
    return this.view(m);
  }
}
