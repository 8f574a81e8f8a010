/** The attributes stage: the Collector attributes processor's actions, compiled. */
export * from './config';
export * from './processor';
export {
  type AttributeMatch,
  type LibraryMatch,
  type MatchProperties,
  type MatchType,
  type Matcher,
  compileMatcher,
  compileIncludeExclude,
  validateMatchProperties,
} from './match';
export { compileRe2, type Re2Result } from './re2';
