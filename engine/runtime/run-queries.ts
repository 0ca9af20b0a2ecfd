// Queries on runs: read models over the store (and the run book's cached states when they are
// current). Nothing here writes.
import { eventCodec } from '../journal/codec.js';
import type { JournalEvent } from '../journal/events.js';
import { nodeStatesAt, type NodeStateAt } from '../journal/node-states.js';
import {
  activationsOf,
  foldEvents,
  isOpen,
  isTerminal,
  type ActivationState,
  type RunState,
} from '../journal/state.js';
import type { RunStatus } from '../journal/state.js';
import type { ForkOrigin, RunCursor, RunFilter, RunPage, RunRecord, Store, WaitRecord } from '../store/index.js';
import {
  carriedEnds,
  startedItems,
  waitKindOf,
  type ChildrenWaitRecord,
  type ChildrenWaitRequest,
} from '../waits/index.js';
import type { NodeRegistry } from '../registry/index.js';
import { replayJournal, type ReplayResult } from '../replay/index.js';
import type { Clock } from './clock.js';
import { waitedOnRunIds } from './children.js';
import { EngineError } from './errors.js';
import { runExportOf, type RunExport } from './run-export.js';

export type { RunExport } from './run-export.js';
export type { NodeRunStatus, NodeStateAt } from '../journal/node-states.js';

export type ApprovalView = WaitRecord;

export interface RunDetail extends RunRecord {
  /** 'parked' when the run can only go on after a decision, a signal or a distant timer. */
  settled: 'finished' | 'parked' | 'active';
  versionHash: string;
  /** The workflow's newest version (the run may be pinned to an older one). */
  latestVersion: number;
  activations: ActivationState[];
  approvals: ApprovalView[];
  /** Runs forked from this one (each with the step it was forked at), oldest first. */
  forks: ForkOrigin[];
  /** Child runs its `subworkflow` and `loop.map` nodes started, in the order they were started. */
  children: ChildRunLink[];
  events: JournalEvent[];
}

/** A child run as its parent lists it. */
export interface ChildRunLink {
  runId: string;
  /** The parent's node that started it. */
  nodeId: string;
  /** The item of a `loop.map` it ran (absent for a `subworkflow`'s child). */
  index?: number;
  workflowId: string;
  version: number;
  /** Null when the child is not in this database (the parent was imported). */
  status: RunStatus | null;
}

/** The run as of one event of its journal (after it): time travel and `stepwise state`. */
export interface RunStateAt {
  runId: string;
  seq: number;
  status: RunStatus;
  /** Every node of the pinned version, by id. */
  nodes: Record<string, NodeStateAt>;
}

/** At most this many forks are listed with a run. */
const MAX_FORKS = 1000;
/** Levels of child runs `get` looks through to tell a parked run from one whose children work. */
const MAX_CHILD_DEPTH = 32;

export interface RunQueryDeps {
  store: Store;
  clock: Clock;
  /** The node types replay verification compiles the pinned version with. */
  registry: NodeRegistry;
  /** A run waiting on timers further away than this counts as parked. */
  parkHorizonMs: number;
}

export class RunQueries {
  readonly #deps: RunQueryDeps;

  constructor(deps: RunQueryDeps) {
    this.#deps = deps;
  }

  /** The run's row alone: cheap, for polling and lists. */
  summary(runId: string): Promise<RunRecord | undefined> {
    return this.#deps.store.getRun(runId);
  }

  /** The run with every activation, its approvals and its journal. */
  async get(runId: string): Promise<RunDetail | undefined> {
    const { store } = this.#deps;
    const record = await store.getRun(runId);
    if (!record) return undefined;
    const events = await store.readEvents(runId, 0);
    const state = foldEvents(runId, events);
    const [version, latest, approvals, forks, children] = await Promise.all([
      store.workflows.getVersion(record.workflowId, record.version),
      store.workflows.latestVersionNumber(record.workflowId),
      store.waits({ runId, limit: 10_000 }),
      store.listRuns({ forkOf: runId }, { limit: MAX_FORKS }),
      this.#children(events),
    ]);
    // The row and the journal are two reads: the run's fields come from the journal, which the
    // activations do too, so the two always agree.
    return {
      ...record,
      status: state.status,
      output: isTerminal(state.status) ? state.output : null,
      error: state.error,
      lastSeq: state.lastSeq,
      finishedAt: state.finishedAt,
      settled: await this.#settledWithChildren(state),
      versionHash: version?.hash ?? '',
      latestVersion: latest ?? record.version,
      activations: activationsOf(state),
      approvals,
      forks: forks.runs.reverse().map((fork) => ({ runId: fork.runId, seq: fork.forkOf?.seq ?? 0 })),
      children,
      events,
    };
  }

  /**
   * The child runs a parent's journal names: one per attempt of a `subworkflow` node (in the order
   * they were started), then each started item of each `loop.map` fan-out (in item order, with its
   * `index`). An item's
   * status comes from the parent's record of its end when there is one; only the others are read.
   */
  async #children(events: readonly JournalEvent[]): Promise<ChildRunLink[]> {
    const { store } = this.#deps;
    const links: (Omit<ChildRunLink, 'status'> & { status?: RunStatus })[] = [];
    const fanOuts = new Map<string, { nodeId: string; wait: ChildrenWaitRequest; pending: ChildrenWaitRecord[] }>();
    // Per activation, the ends its latest fan-out knows (carried ones included): what a new attempt
    // of it carries, as the fold does.
    const known = new Map<string, ChildrenWaitRecord[]>();
    const ended = new Map<string, RunStatus>();
    for (const event of events) {
      const activationId = event.activationId ?? '';
      if (event.type === 'WaitCreated' && event.data.wait.kind === 'child') {
        const { wait } = event.data;
        links.push({
          runId: wait.runId,
          nodeId: event.nodeId ?? '',
          workflowId: wait.workflowId,
          version: wait.version,
        });
      } else if (event.type === 'WaitCreated' && event.data.wait.kind === 'children') {
        const carried = carriedEnds(known.get(activationId) ?? [], event.data.wait);
        known.set(activationId, [...carried]);
        fanOuts.set(`${activationId}@${event.attempt ?? 1}`, {
          nodeId: event.nodeId ?? '',
          wait: event.data.wait,
          pending: [...carried],
        });
      } else if (event.type === 'SignalReceived' && event.data.signal.wait === 'children') {
        const record = event.data.signal;
        ended.set(record.runId, record.status);
        known.get(activationId)?.push(record);
        const fanOut = fanOuts.get(`${activationId}@${event.attempt ?? 1}`);
        if (fanOut && event.data.pending === true) fanOut.pending.push(record);
      }
    }
    for (const { nodeId, wait, pending } of fanOuts.values())
      for (const index of startedItems(wait, pending).sort((a, b) => a - b)) {
        const runId = wait.items[index]?.runId ?? '';
        links.push({
          runId,
          nodeId,
          workflowId: wait.workflowId,
          version: wait.version,
          index,
          ...(ended.has(runId) && { status: ended.get(runId) }),
        });
      }
    return Promise.all(
      links.map(async (link) => ({
        ...link,
        status: link.status ?? (await store.getRun(link.runId))?.status ?? null,
      })),
    );
  }

  /**
   * The run after event `seq` (inclusive; the latest event when omitted): the journal's fold up to
   * it, told per node of the pinned version. A seq outside the journal is refused.
   */
  async state(runId: string, seq?: number): Promise<RunStateAt> {
    const { store } = this.#deps;
    const record = await store.getRun(runId);
    if (!record) throw new EngineError(`no run "${runId}"`, 'not-found');
    const at = seq ?? record.lastSeq;
    if (!Number.isInteger(at) || at < 1 || at > record.lastSeq)
      throw new EngineError(
        `run ${runId} has no event #${seq}: its journal runs from #1 to #${record.lastSeq}`,
        'invalid',
      );
    const [version, events] = await Promise.all([
      store.workflows.getVersion(record.workflowId, record.version),
      store.readEvents(runId, 0, at),
    ]);
    if (!version) throw new EngineError(`run ${runId} is pinned to a version that is missing`, 'not-found');
    const state = foldEvents(runId, events);
    const nodes = nodeStatesAt(
      state,
      version.graph.nodes.map((node) => node.id),
    );
    return { runId, seq: at, status: state.status, nodes };
  }

  list(filter: RunFilter = {}, page: { after?: RunCursor | null; limit?: number } = {}): Promise<RunPage> {
    return this.#deps.store.listRuns(filter, { after: page.after ?? null, limit: page.limit ?? 100 });
  }

  counts(filter: Omit<RunFilter, 'status'> = {}): Promise<Record<RunStatus, number>> {
    return this.#deps.store.countRuns(filter);
  }

  events(runId: string, afterSeq = 0, limit?: number): Promise<JournalEvent[]> {
    return this.#deps.store.readEvents(runId, afterSeq, limit);
  }

  /** How many waits on a person are open (the inbox badge: not capped by a page). */
  inboxCount(): Promise<number> {
    return this.#deps.store.countWaits('open');
  }

  /** Everything waiting on a person, newest first. */
  inbox(limit = 100): Promise<ApprovalView[]> {
    return this.#deps.store.waits({ status: 'open', limit, newestFirst: true });
  }

  /** The run's pinned version and journal, hash-chained, as JSON to keep, verify (`replay`) or move. */
  async export(runId: string): Promise<RunExport> {
    const { store } = this.#deps;
    const run = await store.getRun(runId);
    if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
    const version = await store.workflows.getVersion(run.workflowId, run.version);
    if (!version) throw new EngineError(`run ${runId} is pinned to a version that is missing`, 'not-found');
    const events = await store.readEvents(runId, 0);
    return runExportOf({
      exportedAt: new Date(this.#deps.clock.now()).toISOString(),
      run,
      version,
      events: events.map((event) => eventCodec.encode(event)),
      approvals: await store.waits({ runId, limit: 10_000 }),
    });
  }

  /**
   * Verify replay: the orchestrator run again over the run's journal on its pinned version; every
   * decision it makes now must be the one recorded. The first that is not is the divergence.
   */
  async verifyReplay(runId: string): Promise<ReplayResult> {
    const { store, registry } = this.#deps;
    const run = await store.getRun(runId);
    if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
    const version = await store.workflows.getVersion(run.workflowId, run.version);
    if (!version) throw new EngineError(`run ${runId} is pinned to a version that is missing`, 'not-found');
    return replayJournal(runId, version, await store.readEvents(runId, 0), registry);
  }

  /** A full run id from itself or a unique prefix of it (as `git` does for commits). */
  async resolveId(idOrPrefix: string): Promise<string> {
    if (await this.#deps.store.getRun(idOrPrefix)) return idOrPrefix;
    const matches = await this.#deps.store.findRunIds(idOrPrefix, 2);
    if (matches.length === 1) return matches[0] as string;
    if (matches.length === 0) throw new EngineError(`no run "${idOrPrefix}"`, 'not-found');
    throw new EngineError(`"${idOrPrefix}" matches more than one run; give more of the id`, 'ambiguous');
  }

  /**
   * `settled`, where a wait on child runs is parked only while every child it waits on is parked
   * too: a child that runs, or has just ended, moves the parent on by itself.
   */
  async #settledWithChildren(state: RunState, depth = 0): Promise<RunDetail['settled']> {
    const own = this.#settled(state);
    // Nesting this deep is a loop of subworkflows that the engine would refuse anyway.
    if (own !== 'parked' || depth >= MAX_CHILD_DEPTH) return own;
    for (const childId of waitedOnRunIds(state)) {
      // Not in this database: the parent was imported, and nothing here moves it.
      if (!(await this.#deps.store.getRun(childId))) continue;
      const child = foldEvents(childId, await this.#deps.store.readEvents(childId, 0));
      if ((await this.#settledWithChildren(child, depth + 1)) !== 'parked') return 'active';
    }
    return 'parked';
  }

  /**
   * Finished; parked (only a person, a signal or a timer beyond the horizon moves it; a wait on
   * child runs counts as parked here, `get` looks at the children); or active.
   */
  #settled(state: RunState): RunDetail['settled'] {
    if (isTerminal(state.status)) return 'finished';
    if (state.openActivations === 0) return 'active';
    const horizon = this.#deps.clock.now() + this.#deps.parkHorizonMs;
    for (const activation of state.activations.values()) {
      if (!isOpen(activation.status)) continue;
      const parked =
        (activation.status === 'waiting' &&
          activation.wait !== null &&
          waitKindOf(activation.wait).parked(activation.wait, horizon)) ||
        (activation.status === 'retrying' && (activation.retryDueAt ?? 0) > horizon);
      if (!parked) return 'active';
    }
    return 'parked';
  }
}
