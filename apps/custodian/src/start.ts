import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { CUSTODIAN_VERSION, type CustodianConfig } from '@custodian/config';
import {
  NestPinoLogger,
  OpsServer,
  Readiness,
  createLogger,
  createMetricsRegistry,
  type Logger,
} from '@custodian/ops';
import { RootModule } from './root.module';

export interface RunningProcess {
  /** Resolves once the process has shut down (after `stop()` or a signal). */
  readonly stopped: Promise<void>;
  readonly opsPort: number;
  readonly adminPort?: number;
  /** The Nest application (for in-process tests: schema, providers). */
  readonly app: INestApplicationContext;
  stop(reason: string): Promise<void>;
}

/**
 * Starts the roles in `config.targets` in this process, with one ops port, one logger and one
 * shutdown sequence. Order on the way up: ops port (answers "starting"), roles, then "running".
 * On the way down: readiness says "draining" so load balancers stop sending, the roles stop
 * taking work and flush (Nest shutdown hooks), then the ops port closes and the logger flushes.
 */
export async function startProcess(
  config: CustodianConfig,
  opts: { logger?: Logger; handleSignals?: boolean } = {},
): Promise<RunningProcess> {
  const roles = config.targets;
  const logger =
    opts.logger ?? createLogger({ level: config.logLevel, instanceId: config.instanceId, roles });
  const metrics = createMetricsRegistry({
    instanceId: config.instanceId,
    roles,
    version: CUSTODIAN_VERSION,
  });
  const readiness = new Readiness(config.readinessTimeoutMs, metrics);
  const ops = new OpsServer(readiness, metrics, logger);
  const opsPort = await ops.listen(config.opsPort, config.bindHost);
  logger.info({ opsPort, version: CUSTODIAN_VERSION }, 'custodian starting');

  const root = await RootModule.forRoles(roles, { config, logger, metrics, readiness });
  const nestLogger = new NestPinoLogger(logger.child({ component: 'nest' }));
  let app: INestApplicationContext;
  let adminPort: number | undefined;
  try {
    if (roles.includes('admin')) {
      const http = await NestFactory.create(root, { logger: nestLogger, bufferLogs: false });
      // CUSTODIAN_ADMIN_CORS_ORIGINS: exact origins only (none by default); bearer tokens, no
      // cookies, so credentials are never allowed cross-origin.
      http.enableCors({
        origin: config.adminCorsOrigins.length > 0 ? [...config.adminCorsOrigins] : false,
        credentials: false,
        methods: ['GET', 'POST', 'OPTIONS'],
        allowedHeaders: ['authorization', 'content-type', 'x-request-id'],
        maxAge: 600,
      });
      await http.listen(config.adminPort, config.bindHost);
      const address = http.getHttpServer().address();
      adminPort = typeof address === 'object' && address ? address.port : config.adminPort;
      app = http;
    } else {
      app = await NestFactory.createApplicationContext(root, { logger: nestLogger });
    }
  } catch (err) {
    logger.fatal({ err }, 'custodian failed to start');
    await ops.close();
    throw err;
  }
  readiness.setPhase('running');
  logger.info({ opsPort, adminPort }, 'custodian started');

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | undefined;

  const stop = (reason: string): Promise<void> => {
    stopping ??= (async () => {
      logger.info({ reason }, 'custodian stopping: draining');
      readiness.setPhase('draining');
      const deadline = setTimeout(() => {
        logger.error(
          { timeoutMs: config.shutdownTimeoutMs },
          'shutdown did not finish in time; exiting anyway',
        );
        logger.flush();
        process.exit(1);
      }, config.shutdownTimeoutMs);
      deadline.unref();
      try {
        await app.close();
      } catch (err) {
        logger.error({ err }, 'error while stopping roles');
      }
      await ops.close();
      clearTimeout(deadline);
      logger.info('custodian stopped');
      await new Promise<void>((r) => logger.flush(() => r()));
      detach();
      resolveStopped();
    })();
    return stopping;
  };

  const onSignal = (signal: NodeJS.Signals) => void stop(signal);
  const detach = () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
  if (opts.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { stopped, opsPort, adminPort, app, stop };
}
