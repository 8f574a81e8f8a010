/**
 * The admin API's one gate (issue #6 item 2), installed as APP_GUARD so it covers every
 * module's resolvers, including ones added later. For each query and mutation it:
 *   1. refuses the operation outright when the resolver declares neither @Authorize nor
 *      @Public (fail closed: forgetting the decorator cannot open an operation to everyone);
 *   2. authenticates the bearer token (UNAUTHENTICATED when missing or invalid);
 *   3. checks the CASL ability for the declared action and subject, in the tenant named by
 *      `tenantArg` (FORBIDDEN, audited as 'authz.denied', when the ability says no).
 * Field resolvers are not guarded here (Nest runs guards on them only when asked); output
 * fields are protected by `sanitize` instead.
 */
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { isUuid, PrismaService } from '@custodian/db';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { randomUUID } from 'node:crypto';
import type { GraphQLResolveInfo } from 'graphql';
import { AdminAudit } from '../audit/admin-audit.service';
import { subjectFor } from './abilities';
import type { RequestMeta } from './actor';
import { AuthService } from './auth.service';
import {
  AUTHORIZE_METADATA,
  PUBLIC_METADATA,
  type AuthorizeRequirement,
} from './authorize.decorator';
import type { AdminRequestState } from './current-actor.decorator';
import { badInput, notFound, unauthenticated } from './errors';

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface HttpRequestLike extends AdminRequestState {
  ip?: string;
  socket?: { remoteAddress?: string };
  headers?: Record<string, string | string[] | undefined>;
}

function header(req: HttpRequestLike, name: string): string | undefined {
  const v = req.headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

export function requestMetaOf(req: HttpRequestLike | undefined): RequestMeta {
  const presented = req ? header(req, 'x-request-id') : undefined;
  return {
    ip: req?.ip ?? req?.socket?.remoteAddress ?? null,
    userAgent: (req && header(req, 'user-agent')?.slice(0, 512)) ?? null,
    requestId: presented && REQUEST_ID.test(presented) ? presented : randomUUID(),
  };
}

export function bearerOf(req: HttpRequestLike | undefined): string | undefined {
  const auth = req ? header(req, 'authorization') : undefined;
  const m = auth ? /^\s*bearer\s+(\S+)\s*$/i.exec(auth) : null;
  return m ? m[1] : undefined;
}

/** Reads `args.input.tenantId` for the path 'input.tenantId'. */
export function argAtPath(args: Record<string, unknown>, path: string): unknown {
  let cur: unknown = args;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly audit: AdminAudit,
    private readonly prisma: PrismaService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType<string>() !== 'graphql') return true;
    const gql = GqlExecutionContext.create(context);
    const info = gql.getInfo<GraphQLResolveInfo>();
    if (!ROOT_TYPES.has(info.parentType.name)) return true;
    const operation = `${info.parentType.name}.${info.fieldName}`;
    const req = (gql.getContext<{ req?: HttpRequestLike }>().req ?? {}) as HttpRequestLike;
    const meta = req.requestMeta ?? requestMetaOf(req);
    req.requestMeta = meta;

    const handler = context.getHandler();
    const isPublic = this.reflector.get<boolean | undefined>(PUBLIC_METADATA, handler) === true;
    const requirement = this.reflector.get<AuthorizeRequirement | undefined>(
      AUTHORIZE_METADATA,
      handler,
    );
    const bearer = bearerOf(req);

    if (isPublic) {
      req.actor = bearer ? await this.auth.authenticate(bearer, meta).catch(() => null) : null;
      return true;
    }
    if (!requirement) {
      const actor = bearer ? await this.auth.authenticate(bearer, meta).catch(() => null) : null;
      throw await this.audit.denied(actor, {
        tenantId: null,
        operation,
        message: `${operation} declares neither @Authorize nor @Public, so it is refused for everyone (fail closed)`,
      });
    }
    if (!bearer) throw unauthenticated();
    const actor = await this.auth.authenticate(bearer, meta);
    req.actor = actor;

    const { action, subject, tenantArg } = requirement;
    if (tenantArg === undefined) {
      if (actor.ability.can(action, subject)) return true;
      throw await this.audit.denied(actor, {
        tenantId: null,
        operation,
        targetType: subject,
        message: `you may not ${action} ${subject} (${operation})`,
      });
    }
    const raw = argAtPath(gql.getArgs<Record<string, unknown>>(), tenantArg);
    if (raw !== undefined && raw !== null && (typeof raw !== 'string' || !isUuid(raw))) {
      throw badInput(`${tenantArg}: expected a tenant id (UUID)`);
    }
    const tenantId = (raw as string | null | undefined) ?? null;
    if (actor.ability.can(action, subjectFor(subject, tenantId))) {
      // Only platform admins get here for a tenant they are not a member of: say plainly when
      // it does not exist, rather than failing deeper down.
      if (tenantId !== null && !actor.memberships.some((m) => m.tenantId === tenantId)) {
        const exists = await this.prisma.client.tenant.count({ where: { id: tenantId } });
        if (exists === 0) throw notFound(`tenant ${tenantId} not found`);
      }
      return true;
    }
    throw await this.audit.denied(actor, {
      tenantId,
      operation,
      targetType: subject,
      message:
        tenantId === null
          ? `you may not ${action} ${subject} at platform level (${operation}); only platform admins may`
          : `you may not ${action} ${subject} in tenant ${tenantId} (${operation})`,
    });
  }
}
