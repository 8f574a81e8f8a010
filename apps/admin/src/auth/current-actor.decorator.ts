/**
 * `@CurrentActor()` hands a resolver the actor the global guard authenticated. On a `@Public()`
 * resolver it is null when the request carried no token.
 */
import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { Actor, RequestMeta } from './actor';

/** What the guard leaves on the request object. */
export interface AdminRequestState {
  actor?: Actor | null;
  requestMeta?: RequestMeta;
}

export function requestOf(context: ExecutionContext): (AdminRequestState & object) | undefined {
  if (context.getType<string>() === 'graphql') {
    const ctx = GqlExecutionContext.create(context).getContext<{ req?: AdminRequestState }>();
    return ctx.req;
  }
  return context.switchToHttp().getRequest<AdminRequestState>();
}

export const CurrentActor = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Actor | null => requestOf(context)?.actor ?? null,
);

/** The request's ip, user agent and request id (also on @Public resolvers). */
export const CurrentRequestMeta = createParamDecorator(
  (_data: unknown, context: ExecutionContext): RequestMeta | undefined =>
    requestOf(context)?.requestMeta,
);
