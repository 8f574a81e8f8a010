// tsc emits package.json beside the build output, so this resolves both from source and dist.
import pkg from '../../../package.json';

/** Custodian's version, as the API, logs and metrics report it. */
export const CUSTODIAN_VERSION: string = pkg.version;
