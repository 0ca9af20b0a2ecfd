// Circuit breakers per provider (kind + baseUrl + model), shared by every run in the engine
// process: a provider that keeps failing is skipped without a request, then probed by one call
// once its cool-down has passed.

export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  failures: number;
  /** How long an open breaker skips the provider before one probe is let through. */
  coolDownMs: number;
}

interface BreakerState {
  consecutiveFailures: number;
  /** When the breaker opened; null while closed. */
  openedAt: number | null;
  /** A probe is under way: other calls keep skipping until it reports. */
  probing: boolean;
}

export type Admission = 'closed' | 'probe' | 'open';

export class CircuitBreakers {
  private readonly states = new Map<string, BreakerState>();

  static key(kind: string, baseUrl: string, model: string): string {
    return JSON.stringify([kind, baseUrl.replace(/\/+$/, ''), model]);
  }

  /** Whether a call may go to the provider now: always while closed, one probe after the cool-down. */
  admit(key: string, settings: BreakerSettings, now: number): Admission {
    const state = this.states.get(key);
    if (state?.openedAt === undefined || state.openedAt === null) return 'closed';
    if (state.probing || now - state.openedAt < settings.coolDownMs) return 'open';
    state.probing = true;
    return 'probe';
  }

  succeeded(key: string): void {
    this.states.delete(key);
  }

  /** A failure; a failed probe opens the breaker again for a full cool-down. */
  failed(key: string, settings: BreakerSettings, now: number): void {
    const state = this.states.get(key) ?? { consecutiveFailures: 0, openedAt: null, probing: false };
    state.consecutiveFailures += 1;
    if (state.probing || state.consecutiveFailures >= settings.failures) state.openedAt = now;
    state.probing = false;
    this.states.set(key, state);
  }

  /** A call that said nothing about the provider's health (cancelled, a request error) ends a probe. */
  released(key: string): void {
    const state = this.states.get(key);
    if (state) state.probing = false;
  }

  /** Forgets every breaker (tests; a fresh engine process starts with none). */
  reset(): void {
    this.states.clear();
  }
}

/** The breakers of this process. Module state on purpose: they outlive runs and activations. */
export const circuitBreakers = new CircuitBreakers();
