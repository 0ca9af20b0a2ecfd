// What a node notes during one activation (ctx.note, ctx.log, a code node's console): kept in
// memory, capped, and handed over redacted when the activation ends, to be journaled as one
// `NodeNoted` event in the same commit as the outcome.
import { redactValue } from '../credentials/index.js';
import type { NodeNote } from '../journal/events.js';
import type { Logger, NoteInput, NoteLevel } from '../sdk/index.js';

/** Per activation: a chatty node must not grow the journal without bound. */
export const NOTES_LIMIT = { count: 200, bytes: 64 * 1024, messageChars: 4096 } as const;

export class ActivationNotes {
  readonly #notes: NodeNote[] = [];
  readonly #now: () => number;
  readonly #secrets: () => readonly string[];
  #bytes = 0;
  #dropped = 0;

  /** `secrets`: the credential values the activation read so far, redacted when the notes are handed over. */
  constructor(now: () => number, secrets: () => readonly string[]) {
    this.#now = now;
    this.#secrets = secrets;
  }

  add({ kind, message, level = 'info', data }: NoteInput): void {
    const text = message.length > NOTES_LIMIT.messageChars ? `${message.slice(0, NOTES_LIMIT.messageChars)}…` : message;
    const note: NodeNote = {
      at: this.#now(),
      level,
      kind,
      message: text,
      ...(data !== undefined && { data: jsonData(data) }),
    };
    const bytes = Buffer.byteLength(JSON.stringify(note), 'utf8');
    if (this.#notes.length >= NOTES_LIMIT.count || this.#bytes + bytes > NOTES_LIMIT.bytes) {
      this.#dropped += 1;
      return;
    }
    this.#notes.push(note);
    this.#bytes += bytes;
  }

  /** The node's logger: each line a note of kind `log`, its fields the data. */
  logger(): Logger {
    const line =
      (level: NoteLevel) =>
      (message: string, fields?: Record<string, unknown>): void =>
        this.add({ kind: 'log', level, message, ...(fields !== undefined && { data: fields }) });
    return { info: line('info'), warn: line('warn'), error: line('error') };
  }

  /** The notes so far, redacted, with a last one saying how many were dropped; empties the buffer. */
  drain(): NodeNote[] {
    const notes = this.#notes.splice(0);
    if (this.#dropped > 0)
      notes.push({
        at: this.#now(),
        level: 'warn',
        kind: 'notes.dropped',
        message: `${this.#dropped} more note${this.#dropped === 1 ? '' : 's'} dropped (at most ${NOTES_LIMIT.count} notes or ${NOTES_LIMIT.bytes / 1024} KiB per activation)`,
      });
    this.#bytes = 0;
    this.#dropped = 0;
    // Always redacted (URL user info too): a note is a log line, not the node's data.
    return notes.length === 0 ? notes : (redactValue(notes, this.#secrets()) as NodeNote[]);
  }
}

/** Data as the journal keeps it: JSON, or its text when it is not serialisable. */
function jsonData(data: unknown): unknown {
  try {
    const text = JSON.stringify(data);
    return text === undefined ? null : (JSON.parse(text) as unknown);
  } catch {
    return String(data);
  }
}
