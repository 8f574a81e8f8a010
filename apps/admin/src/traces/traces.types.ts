/**
 * GraphQL types of the trace API (issue #6 item 3, "traces"). Attribute values travel as JSON
 * text with their type named, so a client renders strings, numbers, arrays and maps without
 * guessing. A restricted value is "[RESTRICTED]" and its key is named in the span's `masked`
 * list: never silently present, never silently absent (CONVENTIONS.md, "Admin API").
 */
import { Field, Float, InputType, Int, ObjectType } from '@nestjs/graphql';
import { MaskedFields } from '../auth/sanitize';

@InputType({ description: 'Every filter is optional; a trace matches when it meets all given.' })
export class TraceFilter {
  @Field(() => String, {
    nullable: true,
    description: 'run_id (or gen_ai.conversation.id, session.id) of some span.',
  })
  runId?: string | null;
  @Field(() => String, { nullable: true, description: 'service.name of some span.' })
  service?: string | null;
  @Field(() => String, { nullable: true, description: 'Name of some span (exact).' })
  spanName?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'tool.name / gen_ai.tool.name of some span.',
  })
  toolName?: string | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'true: traces with an error span; false: without.',
  })
  error?: boolean | null;
  @Field(() => Float, { nullable: true, description: 'Trace duration at least this (ms).' })
  minDurationMs?: number | null;
  @Field(() => Float, { nullable: true, description: 'Trace duration at most this (ms).' })
  maxDurationMs?: number | null;
  @Field(() => Date, {
    nullable: true,
    description: 'A span started at or after this. Default: 24 h before `to`.',
  })
  from?: Date | null;
  @Field(() => Date, {
    nullable: true,
    description: 'A span started before this. Default: now. At most 31 days after `from`.',
  })
  to?: Date | null;
}

@ObjectType()
export class TraceSummaryType {
  @Field() traceId!: string;
  @Field({ description: 'Name of the root span (or the earliest span when the root is missing).' })
  rootSpanName!: string;
  @Field() service!: string;
  @Field() start!: Date;
  @Field(() => Float) durationMs!: number;
  @Field(() => Int) spanCount!: number;
  @Field() error!: boolean;
  @Field(() => String, { nullable: true }) runId!: string | null;
}

@ObjectType({ description: 'A page of trace summaries, newest first.' })
export class TraceConnection {
  @Field(() => [TraceSummaryType]) items!: TraceSummaryType[];
  @Field(() => String, {
    nullable: true,
    description: 'Pass as `after` for the next page; null on the last page.',
  })
  nextCursor!: string | null;
  @Field({ description: 'The range searched (defaults applied).' }) from!: Date;
  @Field() to!: Date;
}

@ObjectType({ description: 'One attribute. `value` is JSON text; `type` names its JSON type.' })
export class AttributeType {
  @Field() key!: string;
  @Field({
    description:
      'JSON text: "\\"text\\"", 42, true, [..], {..}, or "\\"[RESTRICTED]\\"" when masked.',
  })
  value!: string;
  @Field({ description: 'string, int, double, bool, array, map or null.' }) type!: string;
  @Field({ description: 'True when the value is restricted and shown as [RESTRICTED].' })
  restricted!: boolean;
}

@ObjectType()
export class SpanEventType {
  @Field() name!: string;
  @Field() timeUnixNano!: string;
  @Field(() => [AttributeType]) attributes!: AttributeType[];
}

@ObjectType()
export class SpanLinkType {
  @Field() traceId!: string;
  @Field() spanId!: string;
  @Field() traceState!: string;
  @Field(() => [AttributeType]) attributes!: AttributeType[];
}

@ObjectType()
export class InstrumentationScopeType {
  @Field() name!: string;
  @Field() version!: string;
  @Field(() => [AttributeType]) attributes!: AttributeType[];
}

@ObjectType({
  description:
    'A stored span. Restricted values are masked for every role and named in `masked` (as in `restrictedKeys`); roles allowed to reveal read one with revealField (audited).',
})
export class SpanType extends MaskedFields {
  @Field() traceId!: string;
  @Field() spanId!: string;
  @Field(() => String, { nullable: true }) parentSpanId!: string | null;
  @Field() name!: string;
  @Field(() => Int, { description: 'OTLP SpanKind number.' }) kind!: number;
  @Field({ description: 'INTERNAL, SERVER, CLIENT, PRODUCER, CONSUMER or UNSPECIFIED.' })
  kindName!: string;
  @Field(() => Int, { description: 'OTLP StatusCode: 0 unset, 1 ok, 2 error.' })
  statusCode!: number;
  @Field() statusMessage!: string;
  @Field() error!: boolean;
  @Field() service!: string;
  @Field() startTime!: Date;
  @Field() endTime!: Date;
  @Field() startUnixNano!: string;
  @Field() endUnixNano!: string;
  @Field(() => Float) durationMs!: number;
  @Field(() => String, { nullable: true }) runId!: string | null;
  @Field(() => String, { nullable: true }) toolName!: string | null;
  @Field(() => String, { nullable: true }) model!: string | null;
  @Field(() => [AttributeType]) attributes!: AttributeType[];
  @Field(() => [AttributeType]) resource!: AttributeType[];
  @Field(() => InstrumentationScopeType) scope!: InstrumentationScopeType;
  @Field(() => [SpanEventType]) events!: SpanEventType[];
  @Field(() => [SpanLinkType]) links!: SpanLinkType[];
  @Field({
    description: 'The span attributes, resource, scope, events and links as one JSON document.',
  })
  attributesJson!: string;
  @Field(() => [String], {
    description:
      'Keys of the restricted values, as revealField takes them: `key` (span), `resource:key`, `scope:key`, `events[i]:key`, `links[i]:key`.',
  })
  restrictedKeys!: string[];
  @Field() traceState!: string;
  @Field() retentionClass!: string;
  @Field() retainUntil!: Date;
}

@ObjectType()
export class TraceType {
  @Field() traceId!: string;
  @Field(() => [SpanType], { description: 'Oldest first.' }) spans!: SpanType[];
  @Field({ description: 'Whether the caller may reveal restricted values of this trace.' })
  revealable!: boolean;
}

@ObjectType({ description: 'A revealed restricted value. The reveal is in the audit log.' })
export class RevealedFieldType {
  @Field() traceId!: string;
  @Field() spanId!: string;
  @Field() key!: string;
  @Field({ description: 'The value as JSON text.' }) valueJson!: string;
  @Field({ description: 'The value as text (JSON text unless it is a string).' }) value!: string;
  @Field({ description: 'The id of the request the audit event records.' }) requestId!: string;
}
