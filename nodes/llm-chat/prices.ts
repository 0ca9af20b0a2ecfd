// A small price table (US dollars per million tokens, list prices) for the cost estimate of an
// answer. Models are matched by the longest known prefix, so dated snapshots
// ("gpt-4o-2024-08-06") find their family; an unknown model has no estimate.
import type { ProviderKind, Usage } from './wire.js';

interface Price {
  input: number;
  output: number;
}

const PRICES: Record<string, Price> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  'claude-3-haiku': { input: 0.25, output: 1.25 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'claude-haiku-4': { input: 1, output: 5 },
  'claude-3-5-sonnet': { input: 3, output: 15 },
  'claude-3-7-sonnet': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-opus-4': { input: 15, output: 75 },
};

/** The estimated cost in US dollars; 0 for Ollama (a local model), null for a model not in the table. */
export function costEstimate(kind: ProviderKind, model: string, usage: Usage): number | null {
  if (kind === 'ollama') return 0;
  const prefix = Object.keys(PRICES)
    .filter((name) => model === name || model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  const price = prefix === undefined ? undefined : PRICES[prefix];
  if (price === undefined) return null;
  const dollars = (usage.inputTokens * price.input + usage.outputTokens * price.output) / 1_000_000;
  // Rounded to 1e-12 dollars: float noise (0.000004949999999999999) out of the journaled number.
  return Math.round(dollars * 1e12) / 1e12;
}
