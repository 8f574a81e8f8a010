/** Routes: which sinks receive what, and which are cleared for restricted values. */
export * from './routes';
export * from './clearance';
export * from './span-metrics';
