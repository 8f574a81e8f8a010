/**
 * The admin API's client-facing errors: GraphQL errors with a stable `extensions.code`
 * (Apollo's conventions) and a message a person can act on. Anything else thrown by a
 * resolver is an internal error; in production its message and stack are not sent.
 */
import { GraphQLError } from 'graphql';

export type AdminErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'TOO_MANY_REQUESTS';

export function adminError(
  code: AdminErrorCode,
  message: string,
  extra: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const unauthenticated = (message = 'sign in first: send Authorization: Bearer <token>') =>
  adminError('UNAUTHENTICATED', message);

export const forbidden = (message: string) => adminError('FORBIDDEN', message);

export const badInput = (message: string, problems?: readonly string[]) =>
  adminError('BAD_USER_INPUT', message, problems ? { problems } : {});

export const notFound = (message: string) => adminError('NOT_FOUND', message);

export const conflict = (message: string) => adminError('CONFLICT', message);
