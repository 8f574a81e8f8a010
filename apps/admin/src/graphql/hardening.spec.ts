import { buildSchema, parse, validate, specifiedRules } from 'graphql';
import { depthLimitRule, formatAdminError } from './hardening';

const schema = buildSchema(`type Node { id: ID, child: Node } type Query { node: Node }`);
const depthErrors = (q: string, max = 3) =>
  validate(schema, parse(q), [...specifiedRules, depthLimitRule(max)]).map((e) => e.message);

describe('depthLimitRule', () => {
  it('allows up to the limit and refuses beyond, following fragments', () => {
    expect(depthErrors('{ node { child { id } } }')).toEqual([]);
    expect(depthErrors('{ node { child { child { id } } } }')).toEqual([
      'query depth 4 exceeds the limit of 3; split it into several queries',
    ]);
    expect(depthErrors('{ node { ...F } } fragment F on Node { child { child { id } } }')).toEqual([
      'query depth 4 exceeds the limit of 3; split it into several queries',
    ]);
    expect(depthErrors('{ node { ... on Node { child { id } } } }')).toEqual([]);
  });
});

describe('formatAdminError', () => {
  it('keeps client errors and hides internal ones in production', () => {
    const prod = formatAdminError(true);
    expect(prod({ message: 'nope', extensions: { code: 'FORBIDDEN', stacktrace: ['x'] } })).toEqual(
      {
        message: 'nope',
        extensions: { code: 'FORBIDDEN' },
      },
    );
    expect(prod({ message: 'db exploded at 10.0.0.5', extensions: { stacktrace: ['x'] } })).toEqual(
      {
        message: 'internal error',
        path: undefined,
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    );
    const dev = { message: 'db exploded', extensions: { stacktrace: ['x'] } };
    expect(formatAdminError(false)(dev)).toBe(dev);
  });
});
