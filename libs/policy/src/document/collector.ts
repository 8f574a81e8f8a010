/**
 * Importing a Collector config: tenants who already run an OpenTelemetry Collector paste its
 * YAML, and the policy stages it configures become a policy document:
 *
 * - `attributes` and `attributes/<name>` → `attributes` (one processor each, in file order,
 *   named after the component id);
 * - `redaction` (or `redaction/<name>`, at most one) → `redaction`, via the redaction stage's
 *   importer (its warnings are passed on);
 * - `tail_sampling` → `sampling.tail` (same shape). A policy of a type Custodian does not run
 *   (`ottl_condition`, `bytes_limiting`; also when nested in `and`/`composite`/`drop`) is left
 *   out WHOLE with a warning naming it, so the rest of a pasted config still imports; the
 *   tenant sees exactly which policy is missing before saving;
 * - `probabilistic_sampler` → `sampling.head` (`sampling_percentage`, `hash_seed`, `mode`).
 *
 * Other processors (batch, memory_limiter, ...) are not policy and are reported as warnings,
 * never silently dropped. The snippet may be a whole config (`processors:` at the top) or the
 * processors map itself. YAML 1.1 is used, as the Collector's parser accepts `100_000`.
 * Everything else follows the policy document's defaults (retention, routes).
 */
import { parseDocument } from 'yaml';
import { type AttributesProcessorConfig, validateAttributesProcessor } from '../attributes/config';
import {
  importCollectorRedactionConfig,
  type RedactionConfig,
  DEFAULT_REDACTION_CONFIG,
} from '../redaction';
import { DEFAULT_RETENTION_CONFIG } from '../retention/retention';
import { DEFAULT_ROUTES } from '../routes/routes';
import { type HeadSamplingConfig, validateHeadSamplingConfig } from '../sampling/head';
import { type TailSamplingConfig, validateTailSamplingConfig } from '../sampling/tail-config';
import { POLICY_SCHEMA_VERSION, type PolicyDocument } from './policy';
import { type PolicyProblem, isRecord, joinPath } from './validate';

export interface CollectorImportResult {
  /** The policy document, only when there are no problems. */
  policy?: PolicyDocument;
  problems: PolicyProblem[];
  /** Accepted with a difference worth telling the operator, or ignored components. */
  warnings: PolicyProblem[];
}

function headFromCollector(
  raw: unknown,
  path: string,
  problems: PolicyProblem[],
): HeadSamplingConfig | undefined {
  if (!isRecord(raw)) {
    problems.push({ path, message: 'expected a map' });
    return undefined;
  }
  const known = ['sampling_percentage', 'hash_seed', 'mode'];
  const subset: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (known.includes(k)) subset[k] = v;
    else
      problems.push({
        path: joinPath(path, k),
        message: `"${k}" is not supported by Custodian's head sampler (supported: ${known.join(', ')})`,
      });
  }
  if (subset.mode === 'equalizing') {
    problems.push({
      path: joinPath(path, 'mode'),
      message: '"equalizing" mode is not supported: use hash_seed or proportional',
    });
    return undefined;
  }
  if (subset.sampling_percentage === undefined) subset.sampling_percentage = 0; // Collector default
  const r = validateHeadSamplingConfig(subset, path);
  problems.push(...r.problems);
  return r.config;
}

/** Converts a Collector config (YAML text) into a policy document. Never throws. */
export function fromCollectorConfig(yamlText: string): CollectorImportResult {
  const problems: PolicyProblem[] = [];
  const warnings: PolicyProblem[] = [];
  const doc = parseDocument(yamlText, { version: '1.1', uniqueKeys: true });
  if (doc.errors.length) {
    return {
      problems: doc.errors.map((e) => {
        const line = e.linePos?.[0]?.line;
        const message = `invalid YAML: ${e.message.split('\n')[0]}`;
        return line === undefined ? { path: '', message } : { path: '', message, line };
      }),
      warnings,
    };
  }
  const top: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isRecord(top))
    return { problems: [{ path: '', message: 'expected a Collector config (a map)' }], warnings };
  const base = isRecord(top.processors) ? 'processors' : '';
  const processors = isRecord(top.processors) ? top.processors : top;

  const attributes: AttributesProcessorConfig[] = [];
  let redaction: RedactionConfig | undefined;
  let redactionId: string | undefined;
  let tail: TailSamplingConfig | undefined;
  let head: HeadSamplingConfig | undefined;

  for (const [id, raw] of Object.entries(processors)) {
    const type = id.split('/')[0];
    const path = joinPath(base, id);
    const cfg = raw ?? {};
    switch (type) {
      case 'attributes': {
        const p = validateAttributesProcessor(cfg, path, problems);
        if (p) attributes.push({ name: id, ...p });
        break;
      }
      case 'redaction': {
        if (redactionId !== undefined) {
          problems.push({
            path,
            message: `only one redaction processor can be imported (already have "${redactionId}")`,
          });
          break;
        }
        redactionId = id;
        const r = importCollectorRedactionConfig(cfg, path);
        problems.push(...r.problems);
        warnings.push(...r.warnings);
        redaction = r.config;
        break;
      }
      case 'tail_sampling': {
        if (tail !== undefined) {
          problems.push({ path, message: 'only one tail_sampling processor can be imported' });
          break;
        }
        const r = validateTailSamplingConfig(cfg, path, { skipUnsupported: true });
        problems.push(...r.problems);
        warnings.push(...r.warnings);
        tail = r.config;
        if (tail && tail.decision_cache === undefined) {
          warnings.push({
            path,
            message:
              'no decision_cache: the Collector keeps none by default, Custodian keeps 100000 sampled and 100000 not-sampled decisions so late spans follow their trace',
          });
        }
        break;
      }
      case 'probabilistic_sampler': {
        if (head !== undefined) {
          problems.push({
            path,
            message: 'only one probabilistic_sampler processor can be imported',
          });
          break;
        }
        head = headFromCollector(cfg, path, problems);
        break;
      }
      default:
        warnings.push({
          path,
          message: `processor "${id}" is not a policy stage and was not imported`,
        });
    }
  }
  if (!attributes.length && !redactionId && !tail && !head && problems.length === 0) {
    problems.push({
      path: base,
      message:
        'found no attributes, redaction, tail_sampling or probabilistic_sampler processor to import',
    });
  }
  if (problems.length) return { problems, warnings };
  const policy: PolicyDocument = {
    version: POLICY_SCHEMA_VERSION,
    description: 'Imported from an OpenTelemetry Collector configuration',
    attributes,
    redaction: redaction ?? structuredClone(DEFAULT_REDACTION_CONFIG),
    sampling: {},
    retention: structuredClone(DEFAULT_RETENTION_CONFIG),
    routes: structuredClone(DEFAULT_ROUTES),
  };
  if (head) policy.sampling.head = head;
  if (tail) policy.sampling.tail = tail;
  return { policy, problems, warnings };
}
