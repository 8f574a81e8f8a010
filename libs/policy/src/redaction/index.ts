/**
 * The redaction stage of a tenant policy: config and validation, Collector import, compiled
 * processor, restricted-value handling. Re-exported by libs/policy's index.
 */
export {
  REDACTION_ACTIONS,
  SUMMARY_LEVELS,
  GENAI_CONTENT_KEYS,
  SENSITIVE_KEY_PATTERNS,
  DEFAULT_REDACTION_CONFIG,
  validateRedactionConfig,
  re2Problem,
} from './config';
export type {
  RedactionAction,
  SummaryLevel,
  RedactionActionSpec,
  BlockedKeyRule,
  CustomPatternRule,
  DetectorsConfig,
  ContentKeysConfig,
  ScanConfig,
  RedactionConfig,
  RedactionProblem,
} from './config';
export { BUILTIN_DETECTORS, DETECTOR_KIND, builtinDetectorSources } from './detectors';
export type { BuiltinDetectorId, DetectorKind } from './detectors';
export {
  COLLECTOR_HASH_FUNCTIONS,
  importCollectorRedactionConfig,
  fromCollectorRedactionConfig,
  RedactionConfigError,
} from './collector';
export type { CollectorImport } from './collector';
export { compileRedaction, SUMMARY_ATTRIBUTES } from './compile';
export type {
  CompiledRedaction,
  CompileRedactionOptions,
  RedactionResult,
  RedactionCounts,
} from './compile';
export {
  RESTRICTED_KEYS_ATTRIBUTE,
  RESTRICTED_BODY,
  RESTRICTED_PLACEHOLDER,
  restrictedKeysOf,
  stripRestrictedAttributes,
  stripRestricted,
  stripRestrictedTraces,
  stripRestrictedLogs,
  stripRestrictedMetrics,
} from './restricted';
