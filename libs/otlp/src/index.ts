/**
 * OTLP protobuf/JSON codecs, trace-id scanning and Zipkin conversion. Pure TypeScript: no
 * framework, no I/O (enforced by eslint.config.mjs).
 */
export * from './model';

export const OTLP_HTTP_PATHS = {
  traces: '/v1/traces',
  metrics: '/v1/metrics',
  logs: '/v1/logs',
} as const;
export * from './json';
export * from './zipkin';
export * from './proto';
export { partitionOfTraceId } from './partition';
