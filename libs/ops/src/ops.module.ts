import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { CustodianConfig } from '@custodian/config';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness';
import { CONFIG, LOGGER, METRICS, READINESS } from './tokens';

export interface ProcessServices {
  config: CustodianConfig;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
}

/**
 * Hands the process-wide config, logger, metrics registry and readiness to every role module.
 * They are created once in main, before Nest, so the ops port answers from the first moment
 * and outlives the roles during shutdown.
 */
@Global()
@Module({})
export class OpsModule {
  static forProcess(services: ProcessServices): DynamicModule {
    const providers = [
      { provide: CONFIG, useValue: services.config },
      { provide: LOGGER, useValue: services.logger },
      { provide: METRICS, useValue: services.metrics },
      { provide: READINESS, useValue: services.readiness },
    ];
    return { module: OpsModule, providers, exports: providers.map((p) => p.provide) };
  }
}
