/** GraphQL types of the dead-letters API: metadata only, never a payload. */
import { Field, ID, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('DeadLetter', {
  description: 'A batch a sink could not take, as metadata: the payload itself is never returned.',
})
export class DeadLetterType {
  @Field(() => ID, { description: "Stable within the sink's dead-letter queue." }) id!: string;
  @Field({ description: 'traces, logs or metrics.' }) signal!: string;
  @Field(() => Int, { description: 'Spans, log records or data points in the batch.' })
  items!: number;
  @Field({
    description:
      'permanent_error, max_attempts, retry_queue_full, sink_deleted or unsupported_signal.',
  })
  reason!: string;
  @Field({ description: 'The last export error, truncated; never payload data.' }) error!: string;
  @Field() firstFailedAt!: Date;
  @Field() deadLetteredAt!: Date;
  @Field(() => Int, { description: 'Export attempts made.' }) attempts!: number;
}

@ObjectType({
  description: "A page of a sink's dead letters, oldest first, with the sink's counts.",
})
export class DeadLetterPageType {
  @Field(() => [DeadLetterType]) entries!: DeadLetterType[];
  @Field(() => String, {
    nullable: true,
    description: 'Pass as `after` for the next page; null on the last page.',
  })
  nextCursor!: string | null;
  @Field(() => Int, { description: 'Dead letters the sink holds now.' }) total!: number;
  @Field(() => Int, { description: "Batches in the sink's retry queue (waiting or retrying)." })
  retryQueue!: number;
  @Field(() => Int, {
    description: 'Dead letters dropped from the full queue over its lifetime (oldest first).',
  })
  dropped!: number;
}
