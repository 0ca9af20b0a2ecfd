// Errors the engine refuses a command with; `code` is what callers (API, CLI) branch on.

export type EngineErrorCode =
  'not-found' | 'ambiguous' | 'already-decided' | 'not-waiting' | 'invalid' | 'finished' | 'not-allowed';

export class EngineError extends Error {
  constructor(
    message: string,
    readonly code: EngineErrorCode,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** An error's message, for logs (an Error's own message; anything else as text). */
export function errorText(error: unknown): string {
  return error instanceof Error
    ? error.message
    : typeof error === 'string'
      ? error
      : (JSON.stringify(error) ?? 'unknown error');
}
