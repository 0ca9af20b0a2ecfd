// The journal's vocabulary and fold: the event catalogue (validation on read, versions and
// upgrades, handler maps that must cover every type), the persistent map under run states, and
// the state at every step (time travel).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventCodec, eventCodec, JournalFormatError, journalEventSchema } from '../../engine/journal/codec.js';
import { eventDetail } from '../../engine/journal/describe.js';
import {
  EVENT_TYPES,
  eventCatalogue,
  handle,
  isDecision,
  type EventHandlers,
  type JournalEvent,
} from '../../engine/journal/events.js';
import { PersistentMap } from '../../engine/journal/persistent-map.js';
import { activationsOf, evolve, foldEvents, initialState, stateAt } from '../../engine/journal/state.js';
import { RunTimeline } from '../../engine/journal/timeline.js';
import { ROOT } from '../support/harness.js';

const golden = (name: string): JournalEvent[] =>
  (
    JSON.parse(readFileSync(join(ROOT, 'tests', 'fixtures', 'journals', name), 'utf8')) as { events: unknown[] }
  ).events.map((event, index) => eventCodec.decode(event, `events[${index}]`));

describe('the event catalogue', () => {
  it('has a schema, a shape version and a decision flag for every event type', () => {
    expect(EVENT_TYPES).toHaveLength(19);
    for (const type of EVENT_TYPES) {
      expect(eventCatalogue[type].schema).toBeInstanceOf(z.ZodType);
      // SignalReceived is at v2: its decision moved into the wait kind's own record.
      expect(eventCodec.version(type)).toBe(type === 'SignalReceived' ? 2 : 1);
    }
    expect(EVENT_TYPES.filter((type) => isDecision({ type }))).toEqual([
      'NodeScheduled',
      'NodeSkipped',
      'RetryScheduled',
      'RunCompleted',
      'RunFailed',
      'CompensationStarted',
      'RunCompensated',
      'RunCompensationFailed',
    ]);
  });

  it('a handler map must cover every event type (a missing one does not compile)', () => {
    // @ts-expect-error — NodeSkipped and the others are missing: adding an event type breaks every map that ignores it.
    const partial: EventHandlers<string> = { RunStarted: () => 'started' };
    expect(Object.keys(partial)).toEqual(['RunStarted']);
    const complete = Object.fromEntries(
      EVENT_TYPES.map((type) => [type, () => type]),
    ) as unknown as EventHandlers<string>;
    for (const event of golden('approval-approved.json')) expect(handle(complete, event)).toBe(event.type);
  });

  it('validates events read back, naming the event and the field', () => {
    const base = { seq: 4, at: 1, activationId: 'a', nodeId: 'a', attempt: 1 };
    expect(() =>
      eventCodec.decode({ ...base, type: 'NodeCompleted', data: { port: 'out', output: null } }, 'event #4'),
    ).not.toThrow();
    expect(() => eventCodec.decode({ ...base, type: 'NodeCompleted', data: { port: 'out' } }, 'event #4')).toThrow(
      'event #4 (NodeCompleted) does not match its schema: data.output:',
    );
    expect(() =>
      eventCodec.decode({ ...base, type: 'NodeFailed', data: { error: { message: 'x', kind: 'y' } } }, 'event #4'),
    ).toThrow('event #4 (NodeFailed) does not match its schema: data.error.retryable: Invalid input');
    expect(() =>
      eventCodec.decode({ ...base, type: 'NodeStarted', data: { worker: 'w', recovered: false, extra: 1 } }, 'e'),
    ).toThrow(/data: Unrecognized key: "extra"/);
    expect(() => eventCodec.decode({ ...base, type: 'Teleported', data: {} }, 'event #4')).toThrow(
      'event #4 (Teleported): unknown event type "Teleported"',
    );
    expect(() => eventCodec.decode({ ...base, seq: 0, type: 'NodeSkipped', data: {} }, 'event #0')).toThrow(
      JournalFormatError,
    );
    expect(() =>
      eventCodec.decode({ ...base, type: 'WaitCreated', data: { wait: { kind: 'teleport' } } }, 'event #4'),
    ).toThrow(/data\.wait\.kind/);
  });

  it('a journal written today still loads after a shape changes: old shapes are upgraded step by step', () => {
    // Tomorrow's catalogue: NodeStarted's `worker` becomes `{ id }` and gains `host` (v2), then
    // `recovered` becomes a count (v3). Today's journal carries v1 (or no version at all).
    const v1 = eventCatalogue.NodeStarted.schema;
    const v2 = z.strictObject({ worker: z.object({ id: z.string() }), recovered: z.boolean(), host: z.string() });
    const v3 = z.strictObject({ worker: z.object({ id: z.string() }), recoveries: z.number(), host: z.string() });
    const tomorrow = createEventCodec({
      ...eventCatalogue,
      NodeStarted: {
        schema: v3,
        decision: false,
        past: [
          {
            schema: v1,
            upgrade: (data) => ({
              ...(data as z.infer<typeof v1>),
              worker: { id: (data as z.infer<typeof v1>).worker },
              host: 'unknown',
            }),
          },
          {
            schema: v2,
            upgrade: (data) => {
              const { recovered, ...rest } = data as z.infer<typeof v2>;
              return { ...rest, recoveries: recovered ? 1 : 0 };
            },
          },
        ],
      },
    });
    const today = golden('approval-approved.json').filter((event) => event.type === 'NodeStarted');
    expect(today.length).toBeGreaterThan(0);
    for (const event of today) {
      const stored = eventCodec.encode(event);
      expect(stored.v).toBe(1);
      expect(tomorrow.decode(stored, 'today').data).toEqual({
        worker: { id: event.data.worker },
        host: 'unknown',
        recoveries: 0,
      });
      const { v: _v, ...unversioned } = stored;
      expect(tomorrow.decode(unversioned, 'before versions').data).toMatchObject({ host: 'unknown' });
    }
    expect(tomorrow.version('NodeStarted')).toBe(3);
    expect(() => eventCodec.decode({ ...eventCodec.encode(today[0] as JournalEvent), v: 3 }, 'e')).toThrow(
      /written by a newer Stepwise \(shape v3; this version reads up to v1\)/,
    );
  });

  it('reads the v1 SignalReceived of journals written before wait kinds recorded their own resolution', () => {
    const v1 = {
      seq: 9,
      at: 5,
      type: 'SignalReceived',
      activationId: 'ok',
      nodeId: 'ok',
      attempt: 1,
      data: { decision: 'approved', by: 'alice', comment: 'fine', shownInput: { amount: 1 } },
    };
    const upgraded = eventCodec.decode(v1, 'event #9');
    expect(upgraded.data).toEqual({
      signal: { wait: 'approval', decision: 'approved', by: 'alice', comment: 'fine' },
      shownInput: { amount: 1 },
    });
    expect(eventCodec.encode(upgraded).v).toBe(2);
    expect(eventCodec.decode(eventCodec.encode(upgraded), 'again')).toEqual(upgraded);
    // The golden journals were recorded at v1 (no version at all): they load upgraded.
    const signal = golden('approval-approved.json').find((event) => event.type === 'SignalReceived');
    expect(signal?.data).toMatchObject({ signal: { wait: 'approval', decision: 'approved', by: 'alice' } });
  });

  it('is exported for the renderer as one schema of the current shapes, and each event has a line for people', () => {
    for (const event of golden('hello-branch-timer-merge.json')) {
      expect(journalEventSchema.parse(event)).toEqual(event);
      expect(typeof eventDetail(event)).toBe('string');
    }
    expect(
      eventDetail(golden('approval-approved.json').find((event) => event.type === 'SignalReceived') as JournalEvent),
    ).toMatch(/^approved by alice/);
  });
});

describe('the persistent map', () => {
  it('agrees with a Map through many sets, and never changes an older version', () => {
    let seed = 1;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 0x100000000;
    };
    const reference = new Map<string, number>();
    let map = PersistentMap.empty<number>();
    const versions: [PersistentMap<number>, Map<string, number>][] = [];
    for (let index = 0; index < 20_000; index += 1) {
      const key = `k${Math.floor(random() * 5000)}`;
      map = map.set(key, index);
      reference.set(key, index);
      if (index % 1000 === 0) versions.push([map, new Map(reference)]);
    }
    expect(map.size).toBe(reference.size);
    for (const [key, value] of reference) expect(map.get(key)).toBe(value);
    expect(map.get('absent')).toBeUndefined();
    expect(new Map(map.entries())).toEqual(reference);
    for (const [old, expected] of versions) {
      expect(old.size).toBe(expected.size);
      expect(new Map(old.entries())).toEqual(expected);
    }
  });

  it('keeps keys whose hashes collide apart', () => {
    // "Aa" and "BB" have the same FNV-1a? Not necessarily: force collisions by brute force.
    const byHash = new Map<number, string[]>();
    let found: string[] | undefined;
    for (let index = 0; index < 200_000 && !found; index += 1) {
      const key = `c${index}`;
      let hash = 0x811c9dc5;
      for (let char = 0; char < key.length; char += 1) hash = Math.imul(hash ^ key.charCodeAt(char), 0x01000193) >>> 0;
      // Same low 20 bits: the keys share four levels of the trie.
      const bucket = hash & 0xfffff;
      const keys = byHash.get(bucket) ?? [];
      keys.push(key);
      byHash.set(bucket, keys);
      if (keys.length === 3) found = keys;
    }
    expect(found).toHaveLength(3);
    let map = PersistentMap.empty<string>();
    for (const key of found ?? []) map = map.set(key, key.toUpperCase());
    for (const key of found ?? []) expect(map.get(key)).toBe(key.toUpperCase());
    expect(map.size).toBe(3);
  });
});

describe('the state at every step', () => {
  const events = golden('hello-branch-timer-merge.json');

  it('evolve never changes the state it is given', () => {
    let state = initialState('run');
    for (const event of events) {
      const before = JSON.stringify([...state.activations.entries()]);
      const next = evolve(state, event);
      expect(JSON.stringify([...state.activations.entries()])).toBe(before);
      state = next;
    }
  });

  it('the timeline gives the same state as a fold of the first k events, forward and back', () => {
    const timeline = new RunTimeline('run', events);
    const order = [events.length, 0, 7, 3, events.length - 1, 12, 1, 12, 11];
    for (const k of order) {
      const expected = stateAt('run', events, k);
      const actual = timeline.at(k);
      expect(actual.lastSeq).toBe(expected.lastSeq);
      expect(actual.status).toBe(expected.status);
      expect(activationsOf(actual)).toEqual(activationsOf(expected));
    }
    expect(timeline.at(events.length)).toBe(timeline.at(events.length + 10));
    expect(activationsOf(foldEvents('run', events)).map((activation) => activation.nodeId)).toEqual(
      activationsOf(timeline.at(events.length)).map((activation) => activation.nodeId),
    );
  });
});
