/**
 * Client errors (GraphQLError with a code: UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT…) are
 * answers, not failures: hand them to GraphQL as they are, without Nest logging each one at
 * error level. Anything else still reaches Nest's handler and is logged.
 */
import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError } from 'graphql';

@Catch(GraphQLError)
export class ClientErrorFilter implements GqlExceptionFilter {
  catch(exception: GraphQLError): GraphQLError {
    return exception;
  }
}
