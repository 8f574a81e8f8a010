/**
 * CASL 7 publishes its type declarations only through package.json "exports", which this
 * repository's `moduleResolution: node` does not read. These ambient modules point the imports
 * at the declarations CASL ships (types only; the runtime resolves the packages normally).
 */
declare module '@casl/ability' {
  export * from '@casl/ability/dist/types/index';
}
declare module '@casl/prisma/runtime' {
  export * from '@casl/prisma/dist/types/runtime';
}
