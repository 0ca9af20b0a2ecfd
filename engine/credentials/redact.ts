// The one redaction of secrets in text that leaves a node: error messages, details, logs, outputs.

const REDACTED = '[redacted]';
/** `scheme://user:password@host` → `scheme://[redacted]@host`: user info never leaves in a URL. */
const URL_USER_INFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>]+@/gi;

/** Replaces every known secret value (and any URL user info) in `text`. */
export function redactText(text: string, secrets: readonly string[]): string {
  let result = text.replace(URL_USER_INFO, `$1${REDACTED}@`);
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length))
    if (secret !== '') result = result.split(secret).join(REDACTED);
  return result;
}

/** A JSON-like value with every string redacted (keys too: a secret can be a key). */
export function redactValue(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactText(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactValue(item, secrets));
  if (value !== null && typeof value === 'object') {
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      // defineProperty: a `__proto__` key stays data.
      Object.defineProperty(result, redactText(key, secrets), {
        value: redactValue(item, secrets),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return result;
  }
  return value;
}
