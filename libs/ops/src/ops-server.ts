import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { Readiness } from './readiness';

/**
 * The ops port: liveness, readiness and Prometheus metrics, served by a bare node:http server so
 * it answers even while the roles' own servers are starting or draining.
 */
export class OpsServer {
  private server?: Server;

  constructor(
    private readonly readiness: Readiness,
    private readonly registry: Registry,
    private readonly logger: Logger,
  ) {}

  async listen(port: number, host: string): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        // Alive as long as the event loop answers; draining is still alive.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: 'ok', phase: this.readiness.getPhase() }));
      } else if (path === '/readyz') {
        this.readiness.report().then(
          (report) => {
            res.writeHead(report.status === 'ready' ? 200 : 503, {
              'content-type': 'application/json',
            });
            res.end(JSON.stringify(report));
          },
          (err: unknown) => {
            this.logger.error({ err }, 'readiness report failed');
            res.writeHead(500).end();
          },
        );
      } else if (path === '/metrics') {
        this.registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'content-type': this.registry.contentType });
            res.end(body);
          },
          (err: unknown) => {
            this.logger.error({ err }, 'metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'not found; try /healthz, /readyz or /metrics' }));
      }
    });
    server.keepAliveTimeout = 5000;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
