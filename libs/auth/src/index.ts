export {
  API_KEY_PREFIX,
  mintApiKey,
  parseApiKey,
  hashApiKeySecret,
  verifyApiKeySecret,
  type MintedApiKey,
  type ParsedApiKey,
} from './api-key';
export {
  SECRET_BLOB_VERSION,
  SecretDecryptionError,
  encryptSecret,
  decryptSecret,
  encryptSecretJson,
  decryptSecretJson,
  sinkSecretAad,
  openSinkSecret,
  tenantHmacAad,
} from './secrets';
export {
  PASSWORD_MIN_LENGTH,
  PASSWORD_MAX_LENGTH,
  passwordProblems,
  hashPassword,
  verifyPasswordOrDummy,
} from './password';
export { JwtError, signJwt, verifyJwt, type AccessTokenClaims, type VerifyJwtOptions } from './jwt';
export {
  REFRESH_TOKEN_PREFIX,
  SERVICE_TOKEN_PREFIX,
  sha256,
  mintRefreshToken,
  isRefreshToken,
  mintServiceToken,
  parseServiceToken,
  type MintedOpaqueToken,
} from './opaque-token';
