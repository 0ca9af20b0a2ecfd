// Credentials: named secrets for nodes (API keys, tokens), their stores and the one redaction.
// Imported by engine/runtime, engine/host and engine/cli; never by the renderer (values stay here).
export {
  CredentialStore,
  FileVault,
  MemoryVault,
  credentialsPathFor,
  fileCredentials,
  type CredentialInfo,
  type CredentialSource,
  type Environment,
  type Vault,
} from './store.js';
export { SealedFileVault, type Sealer } from './sealed.js';
export { CredentialError, CREDENTIAL_NAME, envNameOf, howToSet } from './names.js';
export { redactText, redactValue } from './redact.js';
