/**
 * The `sampling` section: `head` (probabilistic by trace id, decided as data arrives) and
 * `tail` (the tail_sampling processor's shape, decided once a trace is complete). Both are
 * optional: without them nothing is sampled out.
 */
import { type PolicyProblem, type Validated, checkKeys, expectRecord } from '../document/validate';
import { type HeadSamplingConfig, validateHeadSamplingConfig } from './head';
import { type TailSamplingConfig, validateTailSamplingConfig } from './tail-config';

export interface SamplingConfig {
  /** Head sampling; absent = keep every trace. */
  head?: HeadSamplingConfig;
  /** Tail sampling; absent = no tail stage (every trace that passed head sampling is kept). */
  tail?: TailSamplingConfig;
}

export function validateSamplingConfig(raw: unknown, path = 'sampling'): Validated<SamplingConfig> {
  const problems: PolicyProblem[] = [];
  const obj = expectRecord(raw, path, problems);
  if (!obj) return { problems };
  checkKeys(obj, ['head', 'tail'], path, problems);
  const config: SamplingConfig = {};
  if (obj.head !== undefined && obj.head !== null) {
    const h = validateHeadSamplingConfig(obj.head, `${path}.head`);
    problems.push(...h.problems);
    if (h.config) config.head = h.config;
  }
  if (obj.tail !== undefined && obj.tail !== null) {
    const t = validateTailSamplingConfig(obj.tail, `${path}.tail`);
    problems.push(...t.problems);
    if (t.config) config.tail = t.config;
  }
  return problems.length ? { problems } : { config, problems };
}
