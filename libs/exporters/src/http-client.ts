/**
 * One POST over node:http(s) with keep-alive, a deadline, and TLS settings per sink (custom CA,
 * client certificate, or — explicitly — no verification). Response bodies are capped: a sink
 * cannot make the worker buffer an unbounded answer.
 */
import http from 'node:http';
import https from 'node:https';

export interface TlsSettings {
  /** PEM CA bundle to trust instead of the system's. */
  ca?: string;
  /** PEM client certificate and key for mTLS. */
  cert?: string;
  key?: string;
  /** Skip server verification. For test rigs only. */
  insecureSkipVerify?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const MAX_RESPONSE_BYTES = 1 << 20;

export class HttpClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly url: URL,
    tls: TlsSettings = {},
  ) {
    this.agent =
      url.protocol === 'https:'
        ? new https.Agent({
            keepAlive: true,
            maxSockets: 16,
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            rejectUnauthorized: !tls.insecureSkipVerify,
          })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
  }

  post(
    path: string,
    body: Uint8Array,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<HttpResponse> {
    const target = new URL(path, this.url);
    const lib = target.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(
        target,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...headers, 'content-length': String(body.byteLength) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
          });
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
