/**
 * The usage API (issue #6 item 3, "usage"): thin resolvers over UsageService. Subject `Usage`,
 * which every role of the tenant may read (docs/admin-api.md, "Roles"): counts and latencies,
 * no trace content.
 */
import { Args, ID, Int, Query, Resolver } from '@nestjs/graphql';
import { Authorize } from '../auth/authorize.decorator';
import { MAX_STEP_MINUTES, UsageService } from './usage.service';
import { SpanMetricsGroupBy, SpanMetricsReportType, UsageReportType } from './usage.types';

@Resolver()
export class UsageResolver {
  constructor(private readonly service: UsageService) {}

  @Authorize('read', 'Usage', { tenantArg: 'tenantId' })
  @Query(() => UsageReportType, {
    description:
      "A tenant's usage in [from, to) (default: the last 24 hours; at most 31 days) per bucket of `step` minutes.",
  })
  usage(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('from', { type: () => Date, nullable: true }) from: Date | null,
    @Args('to', { type: () => Date, nullable: true }) to: Date | null,
    @Args('step', {
      type: () => Int,
      nullable: true,
      description: `Bucket size in minutes, 1..${MAX_STEP_MINUTES} (default 1).`,
    })
    step: number | null,
    @Args('signal', { type: () => String, nullable: true, description: 'traces, logs or metrics.' })
    signal: string | null,
  ): Promise<UsageReportType> {
    return this.service.usage(tenantId, { from, to, step, signal });
  }

  @Authorize('read', 'Usage', { tenantArg: 'tenantId' })
  @Query(() => SpanMetricsReportType, {
    description:
      'RED span metrics in [from, to) (default: the last 24 hours; at most 31 days), grouped by the given dimensions (default SERVICE, SPAN_NAME).',
  })
  spanMetrics(
    @Args('tenantId', { type: () => ID }) tenantId: string,
    @Args('from', { type: () => Date, nullable: true }) from: Date | null,
    @Args('to', { type: () => Date, nullable: true }) to: Date | null,
    @Args('groupBy', { type: () => [SpanMetricsGroupBy], nullable: true })
    groupBy: SpanMetricsGroupBy[] | null,
    @Args('service', { type: () => String, nullable: true }) service: string | null,
    @Args('toolName', { type: () => String, nullable: true }) toolName: string | null,
    @Args('model', { type: () => String, nullable: true }) model: string | null,
  ): Promise<SpanMetricsReportType> {
    return this.service.spanMetrics(tenantId, { from, to, groupBy, service, toolName, model });
  }
}
