// Replays recorded journals (tests/fixtures/journals) through the orchestrator of today.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replayExport } from '../../engine/replay/index.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { ROOT } from '../support/harness.js';

const folder = join(ROOT, 'tests', 'fixtures', 'journals');
const files = readdirSync(folder).filter((name) => name.endsWith('.json'));

describe('golden journals', () => {
  it('has fixtures', () => expect(files.length).toBeGreaterThanOrEqual(3));

  it.each(files)('%s replays without divergence', (name) => {
    const exported = JSON.parse(readFileSync(join(folder, name), 'utf8')) as unknown;
    const result = replayExport(exported, defaultRegistry());
    expect(result.ok ? 'ok' : result.divergence.message).toBe('ok');
  });

  it('detects a journal whose recorded decision was altered', () => {
    const exported = JSON.parse(readFileSync(join(folder, 'retry-then-error-port.json'), 'utf8')) as {
      events: { type: string; data: { delayMs?: number; dueAt?: number } }[];
    };
    const retry = exported.events.find((event) => event.type === 'RetryScheduled');
    if (retry?.data.dueAt !== undefined) retry.data.dueAt += 1;
    const result = replayExport(exported, defaultRegistry());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.divergence.message).toMatch(/^the journal records RetryScheduled of "call"/);
  });
});
