export {
  ROLES,
  LOG_LEVELS,
  SETTINGS,
  parseTargets,
  type Role,
  type LogLevel,
  type Environment,
  type CustodianConfig,
} from './settings';
export { loadConfig, settingsReference, ConfigError } from './load-config';
export { CUSTODIAN_VERSION } from './version';
