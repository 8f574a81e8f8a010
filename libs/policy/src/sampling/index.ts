/** Sampling: head (consistent by trace id) and tail (the TailSampler). */
export * from './config';
export * from './head';
export * from './tail-config';
export {
  Verdict,
  decide,
  createEvaluator,
  traceStateValue,
  NO_POLICY_SAMPLED,
  SummaryPlan,
  type TraceSummary,
  type DecisionReason,
  type PolicyEvaluator,
  type TailDecision,
  type TraceView,
} from './policies';
export * from './tail-sampler';
export { traceIdHex, hexToBytes, sameBytes } from './trace-id';
export * from './tail-budget';
