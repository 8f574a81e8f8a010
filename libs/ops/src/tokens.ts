/** Injection tokens for the process-wide services every role shares. */
export const CONFIG = Symbol('CUSTODIAN_CONFIG');
export const LOGGER = Symbol('CUSTODIAN_LOGGER');
export const METRICS = Symbol('CUSTODIAN_METRICS');
export const READINESS = Symbol('CUSTODIAN_READINESS');
