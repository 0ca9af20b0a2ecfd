// Credential names and values: the rules every store and every caller share.

/** A name is an identifier so that it maps onto an environment variable (`STEPWISE_SECRET_<NAME>`). */
export const CREDENTIAL_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const ENV_PREFIX = 'STEPWISE_SECRET_';
/** Shorter values could not be redacted without mangling ordinary text, so they are refused. */
export const MIN_VALUE_LENGTH = 4;
export const MAX_VALUE_LENGTH = 16_384;

export class CredentialError extends Error {
  constructor(
    message: string,
    readonly code: 'bad-name' | 'bad-value' | 'not-found' | 'read-only' | 'unsafe-file' | 'unreadable' | 'sealed',
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

export function checkName(name: string): string {
  if (!CREDENTIAL_NAME.test(name))
    throw new CredentialError(
      `"${name.slice(0, 80)}" is not a credential name: use a letter, then letters, digits or _ (at most 64)`,
      'bad-name',
    );
  return name;
}

/** Checks a value; the message never quotes it. Surrounding spaces would be trimmed when sent in
 * a header, and the trimmed text would then escape redaction: they are refused. */
export function checkValue(name: string, value: string): string {
  if (value !== value.trim())
    throw new CredentialError(
      `the value of credential "${name}" starts or ends with spaces; remove them (a header cannot carry them)`,
      'bad-value',
    );
  if (value.length < MIN_VALUE_LENGTH)
    throw new CredentialError(
      `the value of credential "${name}" is too short (at least ${MIN_VALUE_LENGTH} characters)`,
      'bad-value',
    );
  if (value.length > MAX_VALUE_LENGTH)
    throw new CredentialError(
      `the value of credential "${name}" is too long (at most ${MAX_VALUE_LENGTH} characters)`,
      'bad-value',
    );
  if (/[\r\n\0]/.test(value))
    throw new CredentialError(
      `the value of credential "${name}" contains a line break or NUL, which no header can carry`,
      'bad-value',
    );
  return value;
}

export function envNameOf(name: string): string {
  return `${ENV_PREFIX}${name.toUpperCase()}`;
}

/** Names compare without case: `stripe` and `STRIPE` are one credential (and one variable). */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** How to set a credential, for messages. */
export function howToSet(name: string): string {
  return `add it in the Credentials view, with \`stepwise secrets set ${name}\`, or as the environment variable ${envNameOf(name)}`;
}
