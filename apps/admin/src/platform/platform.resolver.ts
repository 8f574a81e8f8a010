import { Field, ObjectType, Query, Resolver } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { CONFIG } from '@custodian/ops';

import { CUSTODIAN_VERSION, type CustodianConfig } from '@custodian/config';
import { Public } from '../auth/authorize.decorator';

@ObjectType({ description: 'What this Custodian process is.' })
export class PlatformInfo {
  @Field({ description: 'Custodian version.' })
  version!: string;

  @Field(() => [String], { description: 'Roles this process runs (gateway, worker, admin).' })
  roles!: string[];
}

@Resolver(() => PlatformInfo)
export class PlatformResolver {
  constructor(@Inject(CONFIG) private readonly config: CustodianConfig) {}

  @Public()
  @Query(() => PlatformInfo, { description: 'Version and roles of the process answering.' })
  platform(): PlatformInfo {
    return { version: CUSTODIAN_VERSION, roles: [...this.config.targets] };
  }
}
