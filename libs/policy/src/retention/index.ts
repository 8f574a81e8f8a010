/** Retention classes: which data is kept how long. */
export * from './retention';
