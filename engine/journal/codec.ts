// Events in and out of storage: every event read back is validated against the catalogue, and
// an event written in an older shape is upgraded to the current one, so a journal written today
// still loads after a shape changes. Pure: the stores and the export/replay path use it.
import { z } from 'zod';
import { describeIssues } from '../model/issues.js';
import { eventCatalogue, EVENT_TYPES, type EventSpec, type EventType, type JournalEvent } from './events.js';

/** An event as a store or an export file holds it: the data in the shape of version `v`. */
export interface StoredEvent {
  seq: number;
  at: number;
  type: string;
  /** Shape version of `data`; files written before versions existed have none (= 1). */
  v?: number | undefined;
  activationId: string | null;
  nodeId: string | null;
  attempt: number | null;
  data: unknown;
}

export class JournalFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalFormatError';
  }
}

const envelopeSchema = z.strictObject({
  seq: z.number().int().min(1),
  at: z.number(),
  type: z.string(),
  v: z.number().int().min(1).optional(),
  activationId: z.string().nullable(),
  nodeId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  data: z.unknown(),
});

export interface EventCodec {
  /** The current shape version of an event type. */
  version(type: EventType): number;
  /** Validates (and upgrades) one stored event; throws JournalFormatError naming what is wrong. */
  decode(stored: unknown, where: string): JournalEvent;
  /** What to store: the data with its shape version. */
  encode(event: JournalEvent): StoredEvent & { v: number };
}

export function createEventCodec(catalogue: Readonly<Record<string, EventSpec>>): EventCodec {
  const spec = (type: string): EventSpec | undefined => (Object.hasOwn(catalogue, type) ? catalogue[type] : undefined);
  return {
    version: (type) => (spec(type)?.past.length ?? 0) + 1,
    decode(stored, where) {
      const envelope = envelopeSchema.safeParse(stored);
      if (!envelope.success)
        throw new JournalFormatError(`${where} is not a journal event: ${describeIssues(envelope.error)}`);
      const { type, v = 1, data, ...rest } = envelope.data;
      const label = `${where} (${type})`;
      const found = spec(type);
      if (!found) throw new JournalFormatError(`${label}: unknown event type "${type}"`);
      const current = found.past.length + 1;
      if (v > current)
        throw new JournalFormatError(
          `${label} was written by a newer Stepwise (shape v${v}; this version reads up to v${current})`,
        );
      let value = data;
      for (let version = v; version < current; version += 1) {
        const past = found.past[version - 1] as EventSpec['past'][number];
        value = past.upgrade(parseOrThrow(past.schema, value, `${label} v${version}`));
      }
      return { ...rest, type, data: parseOrThrow(found.schema, value, label) } as JournalEvent;
    },
    encode(event) {
      return { ...event, v: (spec(event.type)?.past.length ?? 0) + 1 };
    },
  };
}

function parseOrThrow(schema: z.ZodType, value: unknown, label: string): unknown {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new JournalFormatError(`${label} does not match its schema: ${describeIssues(parsed.error, 'data')}`);
  return parsed.data;
}

export const eventCodec = createEventCodec(eventCatalogue);

/** A journal event in its current shape: what the EngineApi sends and clients validate. */
export const journalEventSchema = z.discriminatedUnion(
  'type',
  EVENT_TYPES.map((type) =>
    z.strictObject({
      seq: z.number().int(),
      at: z.number(),
      type: z.literal(type),
      activationId: z.string().nullable(),
      nodeId: z.string().nullable(),
      attempt: z.number().int().nullable(),
      data: eventCatalogue[type].schema,
    }),
  ) as unknown as [z.ZodObject<{ type: z.ZodLiteral<EventType> }>],
) as unknown as z.ZodType<JournalEvent>;
