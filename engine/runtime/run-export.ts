// Run exports: a run's pinned version and journal as one JSON file, with a hash chain over both so
// that `stepwise replay` can tell a file that was edited or cut short before it trusts it.
import { createHash } from 'node:crypto';
import { eventCodec, JournalFormatError, type StoredEvent } from '../journal/codec.js';
import type { JournalEvent } from '../journal/events.js';
import { foldEvents, isTerminal } from '../journal/state.js';
import { canonicalJson } from '../model/canonical-json.js';
import type { Workflow, WorkflowVersion } from '../model/workflow.js';
import {
  parseRunExport,
  RUN_EXPORT_FORMAT,
  RunExportFormatError,
  UNCHAINED_RUN_EXPORT_FORMAT,
  type ExportChain,
} from '../replay/index.js';
import { contentHash, type RunRecord, type Store, type WaitRecord } from '../store/index.js';
import { EngineError } from './errors.js';

export interface RunExport {
  format: typeof RUN_EXPORT_FORMAT;
  exportedAt: string;
  run: RunRecord;
  version: WorkflowVersion;
  /** In the shape `replay` and `import` read: each with its shape version `v`. */
  events: StoredEvent[];
  approvals: WaitRecord[];
  chain: ExportChain;
}

/** What `verifyRunExport` found: the first thing that does not match, named. */
export type ExportIntegrity =
  | { verified: true; events: number; head: string }
  | {
      verified: false;
      /** unchained: an older export without a chain, which cannot be verified (not proof of tampering). */
      problem: 'unchained' | 'version-altered' | 'event-altered' | 'truncated' | 'extended' | 'chain-altered';
      message: string;
      /** The first altered or added event. */
      seq?: number;
      type?: string;
      /** Events the chain records that the file no longer holds. */
      missing?: number;
    };

/** The chain over a version and its events, as `export` writes it. */
export function chainOf(versionHash: string, events: readonly unknown[]): ExportChain {
  const links: string[] = [];
  let link = versionHash;
  for (const event of events) {
    link = nextLink(link, event);
    links.push(link);
  }
  return { algorithm: 'sha256', events: events.length, links, head: link };
}

function nextLink(previous: string, event: unknown): string {
  return createHash('sha256').update(previous).update(canonicalJson(event)).digest('hex');
}

/**
 * Checks an export file's version and events against its hash chain, before anything replays them.
 * Throws RunExportFormatError when the file is not a run export at all.
 */
export function verifyRunExport(value: unknown): ExportIntegrity {
  const file = parseRunExport(value);
  if (file.format === UNCHAINED_RUN_EXPORT_FORMAT)
    return {
      verified: false,
      problem: 'unchained',
      message: `this export is ${UNCHAINED_RUN_EXPORT_FORMAT}, which has no hash chain: its events cannot be verified (export the run again for a file that can be)`,
    };
  const { version, chain, events } = file;
  // The graph as the file holds it: the parsed one has the schema's defaults filled in.
  const graphHash = contentHash((value as { version: { graph: Workflow } }).version.graph);
  if (graphHash !== version.hash)
    return {
      verified: false,
      problem: 'version-altered',
      message: `the workflow version was altered: its graph hashes to ${graphHash.slice(0, 12)}…, the export records ${version.hash.slice(0, 12)}…`,
    };
  let link = version.hash;
  const checked = Math.min(events.length, chain.links.length);
  for (let index = 0; index < checked; index += 1) {
    link = nextLink(link, events[index]);
    if (link !== chain.links[index]) {
      const { seq, type } = identify(events[index], index);
      return {
        verified: false,
        problem: 'event-altered',
        message: `event #${seq} (${type}) was altered: it does not match the export's hash chain (every event before it does)`,
        seq,
        type,
      };
    }
  }
  if (events.length < chain.events) {
    const missing = chain.events - events.length;
    const last = events.length === 0 ? null : identify(events[events.length - 1], events.length - 1);
    return {
      verified: false,
      problem: 'truncated',
      message: `the journal is truncated: the export holds ${events.length} of the ${chain.events} events it was exported with (${missing} missing${last ? ` after #${last.seq}` : ''})`,
      missing,
    };
  }
  if (events.length > chain.events) {
    const { seq, type } = identify(events[chain.events], chain.events);
    return {
      verified: false,
      problem: 'extended',
      message: `the journal has events its hash chain does not cover, from event #${seq} (${type}): they were added after the export`,
      seq,
      type,
    };
  }
  if (chain.links.length !== chain.events || link !== chain.head)
    return {
      verified: false,
      problem: 'chain-altered',
      message: `the export's hash chain was edited: its head or its length does not follow from its links`,
    };
  return { verified: true, events: events.length, head: link };
}

/** An event's seq and type as the file has them (possibly altered; only for naming it). */
function identify(event: unknown, index: number): { seq: number; type: string } {
  const fields = event !== null && typeof event === 'object' ? (event as Record<string, unknown>) : {};
  return {
    seq: typeof fields.seq === 'number' ? fields.seq : index + 1,
    type: typeof fields.type === 'string' ? fields.type : 'unknown type',
  };
}

/** An export file of these parts, its chain computed over the version and the events. */
export function runExportOf(parts: Omit<RunExport, 'format' | 'chain'>): RunExport {
  return { format: RUN_EXPORT_FORMAT, ...parts, chain: chainOf(parts.version.hash, parts.events) };
}

/**
 * Stores the run of an export file: its version (an identical one is reused, by content hash) and
 * its journal, marked imported — read-only, with no work rows, so nothing ever executes it. The
 * hash chain is verified first, as `replay` does; an unchained (@1) file is imported with a warning.
 * The run keeps its id: importing it again (or into the database it came from) is refused, naming it.
 */
export async function importRunExport(
  store: Store,
  value: unknown,
  now: number,
): Promise<{ run: RunRecord; warnings: string[] }> {
  const integrity = verifyRunExport(value);
  if (!integrity.verified && integrity.problem !== 'unchained')
    throw new EngineError(`import refused: ${integrity.message}`, 'invalid');
  const warnings = integrity.verified ? [] : [integrity.message];
  const file = parseRunExport(value);
  const runId = file.run.runId;
  const events = decodeEvents(file.events);
  const gap = events.findIndex((event, index) => event.seq !== index + 1);
  if (events[0]?.type !== 'RunStarted' || gap !== -1)
    throw new RunExportFormatError(
      `not a valid run export: its journal must run from #1 (RunStarted) without gaps${gap > 0 ? ` (event ${gap + 1} is #${events[gap]?.seq})` : ''}`,
    );
  if (await store.getRun(runId))
    throw new EngineError(
      `run ${runId} is already in this database: import refused (see: stepwise show ${runId})`,
      'invalid',
    );
  // The graph as the file holds it, whose hash the chain starts from (the parsed one has defaults filled in).
  const fileGraph = (value as { version: { graph: Workflow } }).version.graph;
  const note = typeof file.version.note === 'string' ? file.version.note : null;
  const placed = await placeImportedGraph(store, fileGraph);
  if (placed.apart)
    warnings.push(
      `workflow "${fileGraph.id}" here has no version with this content: the run's version is kept apart, as "${placed.graph.id}", so this workflow's history stays as it was`,
    );
  const { version } = await store.workflows.saveVersion(placed.graph, note, now);
  // Kept apart: hidden from the workflow list (a deleted workflow's versions stay for their runs).
  if (placed.apart) await store.workflows.delete(placed.graph.id, now);
  const state = foldEvents(runId, events);
  const exportedAt = (file.run as { createdAt?: unknown }).createdAt;
  const record = {
    runId,
    workflowId: version.workflowId,
    // This database's number for the same content (the journal's RunStarted keeps the original one).
    version: version.version,
    status: state.status,
    input: state.input,
    output: isTerminal(state.status) ? state.output : null,
    error: state.error,
    parentRunId: state.parentRunId,
    // The origin of a fork is another database's run: the import stands on its own.
    forkOf: null,
    lastSeq: state.lastSeq,
    createdAt: typeof exportedAt === 'number' ? exportedAt : state.startedAt,
    updatedAt: events.at(-1)?.at ?? state.startedAt,
    finishedAt: state.finishedAt,
  };
  if (!(await store.importRun({ record, events })))
    throw new EngineError(
      `run ${runId} is already in this database: import refused (see: stepwise show ${runId})`,
      'invalid',
    );
  return { run: { ...record, imported: true }, warnings };
}

/**
 * Where an imported run's version goes. A workflow that is not here, or has a version with the
 * same content, takes it as it is. A workflow of the same id with another history must not gain
 * a foreign version (it would become its latest, which runs fork onto and the editor shows): the
 * graph is kept apart under its own id, derived from the content, so importing again reuses it.
 */
async function placeImportedGraph(store: Store, graph: Workflow): Promise<{ graph: Workflow; apart: boolean }> {
  if (!(await store.workflows.exists(graph.id))) return { graph, apart: false };
  const hash = contentHash(graph);
  if ((await store.workflows.listVersions(graph.id)).some((version) => version.hash === hash))
    return { graph, apart: false };
  const suffix = `.imported-${hash.slice(0, 12)}`;
  return { graph: { ...graph, id: `${graph.id.slice(0, 128 - suffix.length)}${suffix}` }, apart: true };
}

function decodeEvents(stored: readonly unknown[]): JournalEvent[] {
  try {
    return stored.map((event, index) => eventCodec.decode(event, `events[${index}]`));
  } catch (error) {
    if (error instanceof JournalFormatError) throw new RunExportFormatError(`not a valid run export: ${error.message}`);
    throw error;
  }
}
