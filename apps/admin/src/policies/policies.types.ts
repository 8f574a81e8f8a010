/** GraphQL types of the policies API (code-first). JSON documents travel as JSON text. */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum PolicySourceFormat {
  JSON = 'json',
  YAML = 'yaml',
  /** An OpenTelemetry Collector config whose attributes/redaction/tail_sampling processors are imported. */
  COLLECTOR = 'collector',
}
registerEnumType(PolicySourceFormat, {
  name: 'PolicySourceFormat',
  description:
    'How a policy source is written: a policy document in JSON or YAML, or a Collector config to import.',
});

@ObjectType({ description: 'One immutable version of a tenant policy.' })
export class PolicyVersionType {
  @Field(() => ID) id!: string;
  @Field(() => ID) tenantId!: string;
  @Field(() => Int, { description: 'Numbered per tenant, from 1.' }) version!: number;
  @Field({
    description:
      'SHA-256 of the normalized document: the custodian.policy.hash stamped on its output.',
  })
  checksum!: string;
  @Field({ description: 'json or yaml (a Collector import is stored as its YAML).' })
  format!: string;
  @Field(() => String, { nullable: true }) comment!: string | null;
  @Field() createdAt!: Date;
  @Field(() => String, { nullable: true, description: 'User id of the author.' })
  createdBy!: string | null;
  @Field({ description: 'Whether this is the tenant’s active version.' }) active!: boolean;
  @Field({ description: 'The text as submitted.' }) source!: string;
  @Field({ description: 'The validated, normalized document as JSON (what the worker compiles).' })
  documentJson!: string;
}

@ObjectType()
export class PolicyVersionPageType {
  @Field(() => [PolicyVersionType], { description: 'Newest first.' }) items!: PolicyVersionType[];
  @Field(() => Int) total!: number;
  @Field(() => Int, { nullable: true, description: 'Null: the platform default applies.' })
  activeVersion!: number | null;
  @Field(() => Int, { nullable: true, description: 'Pass as beforeVersion for the next page.' })
  nextBeforeVersion!: number | null;
}

@ObjectType({ description: 'A policy problem: where (path, line) and what.' })
export class PolicyProblemType {
  @Field() path!: string;
  @Field() message!: string;
  @Field(() => Int, { nullable: true }) line?: number;
}

@InputType()
export class SubmitPolicyInput {
  @Field(() => ID) tenantId!: string;
  @Field({ description: 'The policy text.' }) source!: string;
  @Field(() => PolicySourceFormat) format!: PolicySourceFormat;
  @Field(() => String, { nullable: true }) comment?: string | null;
}

@ObjectType()
export class SubmitPolicyResult {
  @Field(() => PolicyVersionType) version!: PolicyVersionType;
  @Field({ description: 'False when an identical version existed and is returned instead.' })
  created!: boolean;
  @Field() message!: string;
  @Field(() => [PolicyProblemType]) warnings!: PolicyProblemType[];
}

@ObjectType()
export class PolicyDiffEntryType {
  @Field() path!: string;
  @Field({ description: 'added, removed or changed' }) change!: string;
  @Field(() => String, { nullable: true, description: 'JSON of the value before.' })
  before?: string;
  @Field(() => String, { nullable: true, description: 'JSON of the value after.' }) after?: string;
}

@ObjectType()
export class PolicyDiffType {
  @Field(() => Int, { nullable: true }) fromVersion!: number | null;
  @Field(() => Int, { nullable: true }) toVersion!: number | null;
  @Field() fromChecksum!: string;
  @Field() toChecksum!: string;
  @Field() identical!: boolean;
  @Field(() => [PolicyDiffEntryType]) changes!: PolicyDiffEntryType[];
  @Field({ description: 'Unified diff of the canonical JSON (sorted keys).' }) unified!: string;
}

@ObjectType()
export class PolicyActivationType {
  @Field(() => PolicyVersionType, { nullable: true, description: 'Null: the platform default.' })
  version!: PolicyVersionType | null;
  @Field(() => Int, { nullable: true }) previousVersion!: number | null;
  @Field() changed!: boolean;
  @Field() message!: string;
}

@InputType()
export class PolicyDryRunInput {
  @Field(() => ID) tenantId!: string;
  @Field(() => Int, { nullable: true, description: 'A stored version; default the active one.' })
  version?: number | null;
  @Field(() => String, { nullable: true, description: 'An unsaved policy to try instead.' })
  source?: string | null;
  @Field(() => PolicySourceFormat, { nullable: true }) format?: PolicySourceFormat | null;
  @Field(() => Boolean, { nullable: true, description: 'Run the platform default.' })
  useDefault?: boolean | null;
  @Field(() => String, { nullable: true, description: 'OTLP JSON (ExportTraceServiceRequest).' })
  traces?: string | null;
  @Field(() => String, { nullable: true, description: 'OTLP JSON (ExportLogsServiceRequest).' })
  logs?: string | null;
  @Field(() => String, { nullable: true, description: 'OTLP JSON (ExportMetricsServiceRequest).' })
  metrics?: string | null;
}

@ObjectType()
export class DryRunCountsType {
  @Field(() => Int) spans!: number;
  @Field(() => Int) logRecords!: number;
  @Field(() => Int) dataPoints!: number;
}

@ObjectType({ description: 'What one sink would receive.' })
export class DryRunSinkType {
  @Field() sink!: string;
  @Field({
    description: 'False: the tenant has no enabled sink of this name (counted no_such_sink).',
  })
  delivered!: boolean;
  @Field() exists!: boolean;
  @Field() enabled!: boolean;
  @Field(() => String, { nullable: true }) kind!: string | null;
  @Field({ description: 'Restricted values are sent as they are (route cleared).' })
  restrictedFields!: boolean;
  @Field(() => Int) spans!: number;
  @Field(() => Int) logRecords!: number;
  @Field(() => Int) dataPoints!: number;
  @Field(() => String, { nullable: true, description: 'OTLP JSON.' }) tracesJson!: string | null;
  @Field(() => String, { nullable: true, description: 'OTLP JSON.' }) logsJson!: string | null;
  @Field(() => String, { nullable: true, description: 'OTLP JSON.' }) metricsJson!: string | null;
}

@ObjectType({ description: "One trace's tail-sampling decision." })
export class DryRunTraceDecisionType {
  @Field() traceId!: string;
  @Field() sampled!: boolean;
  @Field() reason!: string;
  @Field(() => String, { nullable: true, description: 'The deciding tail policy.' })
  policy?: string;
  @Field() cause!: string;
  @Field(() => Int) spanCount!: number;
}

@ObjectType()
export class DryRunDiscardType {
  @Field() signal!: string;
  @Field({ description: 'head_sampled, tail_sampled, no_such_sink (the worker’s reasons).' })
  reason!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'A redaction rule that fired (counts only, never values).' })
export class DryRunRedactionType {
  @Field() signal!: string;
  @Field() rule!: string;
  @Field() action!: string;
  @Field(() => Int) count!: number;
}

@ObjectType({ description: 'An effect of the attributes stage on one key.' })
export class DryRunAttributeChangeType {
  @Field() signal!: string;
  @Field() target!: string;
  @Field() key!: string;
  @Field({ description: 'added, changed or removed' }) change!: string;
  @Field(() => Int) count!: number;
}

@ObjectType()
export class PolicyDryRunResult {
  @Field({ description: 'version, source, active or default' }) policySource!: string;
  @Field(() => Int, { nullable: true }) version!: number | null;
  @Field() policyHash!: string;
  @Field(() => DryRunCountsType) input!: DryRunCountsType;
  @Field(() => [DryRunSinkType]) sinks!: DryRunSinkType[];
  @Field(() => [DryRunTraceDecisionType]) traceDecisions!: DryRunTraceDecisionType[];
  @Field(() => [DryRunDiscardType]) discarded!: DryRunDiscardType[];
  @Field(() => [DryRunRedactionType]) redaction!: DryRunRedactionType[];
  @Field(() => [DryRunAttributeChangeType]) attributeChanges!: DryRunAttributeChangeType[];
  @Field(() => [PolicyProblemType]) warnings!: PolicyProblemType[];
}
