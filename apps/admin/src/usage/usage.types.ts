/** GraphQL types of the usage and span-metrics API (issue #6 item 3, "usage"). */
import { Field, Float, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

@ObjectType({ description: 'A count under a reason (or, for exports, a sink id).' })
export class KeyCount {
  @Field() key!: string;
  @Field(() => Float) count!: number;
}

@ObjectType({ description: 'Usage in one bucket of `stepMinutes` starting at `start` (UTC).' })
export class UsageBucketType {
  @Field() start!: Date;
  @Field(() => Float, { description: 'Everything the gateway was sent: accepted + rejected.' })
  received!: number;
  @Field(() => Float) accepted!: number;
  @Field(() => Float) rejectedTotal!: number;
  @Field(() => [KeyCount], { description: 'By reason (rate_limited, unauthenticated, invalid…).' })
  rejected!: KeyCount[];
  @Field(() => Float) sampledOutTotal!: number;
  @Field(() => [KeyCount], { description: 'By reason (head_sampled, tail_sampled).' })
  sampledOut!: KeyCount[];
  @Field(() => Float) droppedTotal!: number;
  @Field(() => [KeyCount], {
    description: 'Discarded by the worker for another reason, by reason.',
  })
  dropped!: KeyCount[];
  @Field(() => Float) exportedTotal!: number;
  @Field(() => [KeyCount], { description: 'Delivered, by sink id.' }) exported!: KeyCount[];
}

@ObjectType()
export class UsageReportType {
  @Field() from!: Date;
  @Field() to!: Date;
  @Field(() => Int) stepMinutes!: number;
  @Field(() => String, { nullable: true, description: 'The signal filter, if any.' })
  signal!: string | null;
  @Field(() => [UsageBucketType], {
    description: 'Oldest first; buckets without data are left out.',
  })
  buckets!: UsageBucketType[];
  @Field(() => UsageBucketType, { description: 'The whole range (start = from).' })
  totals!: UsageBucketType;
}

export enum SpanMetricsGroupBy {
  SERVICE = 'service',
  SPAN_NAME = 'spanName',
  TOOL = 'toolName',
  MODEL = 'model',
}
registerEnumType(SpanMetricsGroupBy, {
  name: 'SpanMetricsGroupBy',
  description: 'A dimension span metrics are grouped by.',
});

@ObjectType({
  description:
    'RED metrics of one series: the grouped dimensions are set, the others null. Computed before sampling (every span the worker saw).',
})
export class SpanMetricsSeriesType {
  @Field(() => String, { nullable: true }) service!: string | null;
  @Field(() => String, { nullable: true }) spanName!: string | null;
  @Field(() => String, { nullable: true, description: '"" for spans without a tool.' })
  toolName!: string | null;
  @Field(() => String, { nullable: true, description: '"" for spans without a model.' })
  model!: string | null;
  @Field(() => Float) calls!: number;
  @Field(() => Float) errors!: number;
  @Field(() => Float, { description: 'errors / calls.' }) errorRate!: number;
  @Field(() => Float) durationAvgMs!: number;
  @Field(() => Float, {
    nullable: true,
    description: 'Estimated from the duration histogram (linear within a bucket).',
  })
  p50Ms!: number | null;
  @Field(() => Float, { nullable: true }) p95Ms!: number | null;
  @Field(() => Float, { nullable: true }) p99Ms!: number | null;
  @Field(() => [Int], {
    description: 'Histogram counts per bucket of durationBoundsMs, then +Inf.',
  })
  bucketCounts!: number[];
  @Field(() => [String], { description: 'Trace ids of example spans (at most 5).' })
  exemplarTraceIds!: string[];
}

@ObjectType()
export class SpanMetricsReportType {
  @Field() from!: Date;
  @Field() to!: Date;
  @Field(() => [SpanMetricsGroupBy]) groupBy!: SpanMetricsGroupBy[];
  @Field(() => [Float], { description: 'Upper bounds (ms, inclusive) of the histogram buckets.' })
  durationBoundsMs!: number[];
  @Field(() => [SpanMetricsSeriesType], { description: 'Busiest first.' })
  series!: SpanMetricsSeriesType[];
}
