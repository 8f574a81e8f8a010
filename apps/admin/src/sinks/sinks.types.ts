/** GraphQL types of the sinks API. Settings travel as JSON text; secrets are write-only. */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum SinkKindType {
  otlphttp = 'otlphttp',
  otlpgrpc = 'otlpgrpc',
  zipkin = 'zipkin',
  kafka = 'kafka',
  store = 'store',
}
registerEnumType(SinkKindType, {
  name: 'SinkKind',
  description: 'The kind of backend a sink delivers to.',
});

@ObjectType({
  description: 'A delivery target. Secret values are never returned: only their names.',
})
export class SinkType {
  @Field(() => ID) id!: string;
  @Field(() => ID) tenantId!: string;
  @Field() name!: string;
  @Field(() => SinkKindType) kind!: SinkKindType;
  @Field({ description: 'The non-secret settings as JSON.' }) configJson!: string;
  @Field() hasSecret!: boolean;
  @Field(() => [String], {
    description: 'Names of the secret settings (e.g. headers.authorization).',
  })
  secretKeys!: string[];
  @Field({
    description: "False when the stored secret cannot be decrypted with this process's key.",
  })
  secretReadable!: boolean;
  @Field({ description: 'Whether restricted values may be sent to this sink.' })
  clearedForRestricted!: boolean;
  @Field() enabled!: boolean;
  @Field() createdAt!: Date;
  @Field() updatedAt!: Date;
}

@InputType()
export class CreateSinkInput {
  @Field(() => ID) tenantId!: string;
  @Field() name!: string;
  @Field(() => SinkKindType) kind!: SinkKindType;
  @Field(() => String, { nullable: true, description: 'Non-secret settings, a JSON object.' })
  configJson?: string | null;
  @Field(() => String, {
    nullable: true,
    description:
      'Secret settings, a JSON object (e.g. {"headers":{"authorization":"…"}}): stored encrypted, never returned.',
  })
  secretJson?: string | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Needs the permission to manage redaction (owner, admin).',
  })
  clearedForRestricted?: boolean | null;
}

@InputType()
export class UpdateSinkInput {
  @Field(() => ID) tenantId!: string;
  @Field(() => ID) sinkId!: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true, description: 'Replaces the non-secret settings.' })
  configJson?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'A patch of the secret settings: maps merge key by key, null removes a key.',
  })
  secretJson?: string | null;
  @Field(() => Boolean, { nullable: true, description: 'Removes the whole secret.' })
  clearSecret?: boolean | null;
  @Field(() => Boolean, { nullable: true }) enabled?: boolean | null;
  @Field(() => Boolean, {
    nullable: true,
    description: 'Needs the permission to manage redaction (owner, admin).',
  })
  clearedForRestricted?: boolean | null;
}

@ObjectType()
export class SinkConnectivityResult {
  @Field() ok!: boolean;
  @Field(() => Int) latencyMs!: number;
  @Field(() => String, { nullable: true }) signal!: string | null;
  @Field({ description: 'ok, rejected, unreachable or unsupported' }) status!: string;
  @Field({ description: 'What happened; never contains a secret.' }) message!: string;
  @Field() retryable!: boolean;
}
