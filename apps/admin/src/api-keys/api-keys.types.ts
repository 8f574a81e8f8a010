/** GraphQL types of ingest API keys (`cus_<id>_<secret>`). */
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';

export enum SignalEnum {
  traces = 'traces',
  logs = 'logs',
  metrics = 'metrics',
}
registerEnumType(SignalEnum, { name: 'Signal', description: 'OpenTelemetry signal.' });

@ObjectType({ description: 'An ingest API key. The secret is never returned after creation.' })
export class ApiKeyView {
  @Field(() => ID, { description: 'Public id: the key reads cus_<id>_<secret>.' }) id!: string;
  @Field(() => ID) tenantId!: string;
  @Field() name!: string;
  @Field({ description: 'The key with its secret elided: cus_<id>_…' }) preview!: string;
  @Field(() => [SignalEnum], { description: 'Signals it may send; empty = all.' })
  signals!: SignalEnum[];
  @Field() createdAt!: Date;
  @Field(() => String, { nullable: true }) createdBy!: string | null;
  @Field(() => Date, { nullable: true }) expiresAt!: Date | null;
  @Field(() => Date, { nullable: true }) revokedAt!: Date | null;
  @Field(() => Date, { nullable: true }) lastUsedAt!: Date | null;
}

@ObjectType()
export class CreatedApiKey {
  @Field({ description: 'The full key: shown once, never again.' }) key!: string;
  @Field(() => ApiKeyView) apiKey!: ApiKeyView;
}

@InputType()
export class CreateApiKeyInput {
  @Field(() => ID) tenantId!: string;
  @Field({ description: '1-100 characters.' }) name!: string;
  @Field(() => [SignalEnum], { nullable: true, description: 'Empty or omitted = all signals.' })
  signals?: SignalEnum[] | null;
  @Field(() => Int, { nullable: true, description: 'Days until it expires (1-3660).' })
  expiresInDays?: number | null;
}
