/** Routes: which sinks receive what, and which are cleared for restricted values. */
export * from './routes';
