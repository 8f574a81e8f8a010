/**
 * GraphQL hardening (issue #6 item 5): a depth limit (validation rule), a cost limit
 * (graphql-query-complexity, after the operation is resolved so variables count), and error
 * formatting that never sends stack traces or internal messages to clients in production.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import {
  GraphQLError,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import { fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

export const MAX_QUERY_DEPTH = 10;
export const MAX_QUERY_COST = 1000;

/** Deepest field nesting of a selection set, following fragments (introspection excluded). */
function depthOf(
  set: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  visiting: Set<string>,
): number {
  let max = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      const below = sel.selectionSet ? depthOf(sel.selectionSet, fragments, visiting) : 0;
      max = Math.max(max, 1 + below);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      max = Math.max(max, depthOf(sel.selectionSet, fragments, visiting));
    } else {
      const name = sel.name.value;
      const frag = fragments.get(name);
      if (!frag || visiting.has(name)) continue; // unknown or cyclic: other rules report it
      visiting.add(name);
      max = Math.max(max, depthOf(frag.selectionSet, fragments, visiting));
      visiting.delete(name);
    }
  }
  return max;
}

export function depthLimitRule(maxDepth: number = MAX_QUERY_DEPTH): ValidationRule {
  return (context) => {
    const doc = context.getDocument();
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of doc.definitions) {
      if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    }
    for (const d of doc.definitions) {
      if (d.kind !== Kind.OPERATION_DEFINITION) continue;
      const depth = depthOf(d.selectionSet, fragments, new Set());
      if (depth > maxDepth) {
        context.reportError(
          new GraphQLError(
            `query depth ${depth} exceeds the limit of ${maxDepth}; split it into several queries`,
            { nodes: [d], extensions: { depth, limit: maxDepth } },
          ),
        );
      }
    }
    return {};
  };
}

/**
 * Refuses an operation whose estimated cost exceeds `maxCost`: each field costs 1 unless its
 * resolver declares a `complexity` (list queries multiply by their page size).
 */
export function costLimitPlugin(maxCost: number = MAX_QUERY_COST): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, schema }) {
          let cost: number;
          try {
            cost = getComplexity({
              schema,
              query: document,
              operationName: request.operationName ?? undefined,
              variables: request.variables ?? {},
              estimators: [fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
            });
          } catch {
            // Invalid variables: execution reports them as BAD_USER_INPUT, with the details.
            return;
          }
          if (cost > maxCost) {
            throw new GraphQLError(
              `query cost ${cost} exceeds the limit of ${maxCost}; ask for fewer fields or smaller pages`,
              { extensions: { code: 'QUERY_TOO_COMPLEX', cost, limit: maxCost } },
            );
          }
        },
      };
    },
  };
}

/** Codes whose messages are written for clients; anything else is internal. */
const CLIENT_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'TOO_MANY_REQUESTS',
  'QUERY_TOO_COMPLEX',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/**
 * In production, an error without a client-facing code is reported as "internal error" with
 * no stack, path details or message of the underlying exception (those stay in the logs).
 */
export function formatAdminError(production: boolean) {
  return (formatted: GraphQLFormattedError): GraphQLFormattedError => {
    const code = (formatted.extensions?.code as string | undefined) ?? 'INTERNAL_SERVER_ERROR';
    if (!production) return formatted;
    const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
    if (CLIENT_CODES.has(code)) return { ...formatted, extensions: { ...extensions, code } };
    return {
      message: 'internal error',
      path: formatted.path,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
