export {
  API_KEY_PREFIX,
  mintApiKey,
  parseApiKey,
  hashApiKeySecret,
  verifyApiKeySecret,
  type MintedApiKey,
  type ParsedApiKey,
} from './api-key';
