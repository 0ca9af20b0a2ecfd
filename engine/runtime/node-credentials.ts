// A node's view of the credentials during one activation: `ctx.credentials.get` reads a value and
// remembers it, and whatever leaves the activation (its error, details, logs, output) is redacted
// of the values it read and of any URL user info.
import { CredentialError, howToSet, redactText, redactValue, type CredentialStore } from '../credentials/index.js';
import { NodeError, type Credentials } from '../sdk/index.js';
import type { ExecutionOutcome } from './execute.js';

export type CredentialReader = Pick<CredentialStore, 'get'>;

export class ActivationCredentials implements Credentials {
  readonly #store: CredentialReader;
  readonly #used: string[] = [];

  constructor(store: CredentialReader) {
    this.#store = store;
  }

  get(name: string): string {
    let value: string | undefined;
    try {
      value = this.#store.get(name);
    } catch (error) {
      if (error instanceof CredentialError)
        throw new NodeError(`credential "${name}": ${error.message}`, { kind: 'credential.invalid', retryable: false });
      throw error;
    }
    if (value === undefined)
      throw new NodeError(`credential "${name}" is not set: ${howToSet(name)}`, {
        kind: 'credential.missing',
        retryable: false,
      });
    if (!this.#used.includes(value)) this.#used.push(value);
    return value;
  }

  /** The values read so far: what the activation's notes are redacted of. */
  get used(): readonly string[] {
    return this.#used;
  }

  /** The outcome as it may be journaled. */
  redact(outcome: ExecutionOutcome): ExecutionOutcome {
    const used = this.#used;
    switch (outcome.kind) {
      case 'failed': {
        const { error } = outcome;
        return {
          kind: 'failed',
          error: {
            ...error,
            message: redactText(error.message, used),
            ...(error.details !== undefined && { details: redactValue(error.details, used) }),
          },
        };
      }
      case 'completed':
        // An output is data: only values this activation read are taken out of it.
        return used.length === 0 ? outcome : { ...outcome, output: redactValue(outcome.output, used) };
      case 'waiting':
        return used.length === 0
          ? outcome
          : { ...outcome, wait: redactValue(outcome.wait, used) as typeof outcome.wait };
    }
  }
}
