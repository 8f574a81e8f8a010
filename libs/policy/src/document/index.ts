/** The policy document: schema, parsing, validation, defaults, Collector import, compiler. */
export * from './policy';
export * from './compile';
export * from './defaults';
export * from './collector';
export * from './hash';
export { type PolicyProblem, type Validated, parseDurationMs } from './validate';
