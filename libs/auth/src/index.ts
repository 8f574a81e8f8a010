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
  tenantHmacAad,
} from './secrets';
