// Commands on runs: start, decide an approval (a signal to its wait), cancel, fork, redrive. Each is an item of
// the group commit, so it shares an fsync with whatever else commits then, and each is checked
// against the run as committed (another process may have moved it on: the commit catches that).
import { randomBytes } from 'node:crypto';
import { activationsOf, initialState, isTerminal } from '../journal/state.js';
import { describeDepthExcess, jsonDepthExcess } from '../model/json-limits.js';
import type { CompiledWorkflow } from '../orchestrator/compile.js';
import type { NewRun, RunRecord, Store } from '../store/index.js';
import type { Batch } from './batch.js';
import type { Clock } from './clock.js';
import { EngineError } from './errors.js';
import type { ExecutionServices } from './execute.js';
import type { GroupCommit } from './group-commit.js';
import type { RunBook } from './run-book.js';
import { importRunExport } from './run-export.js';
import { completedAt, planInheritance, type ForkTarget } from './run-fork.js';
import { signalWait } from './waits.js';

export interface RunCommandDeps {
  store: Store;
  book: RunBook;
  commits: GroupCommit;
  services: ExecutionServices;
  clock: Clock;
}

export class RunCommands {
  readonly #deps: RunCommandDeps;

  constructor(deps: RunCommandDeps) {
    this.#deps = deps;
  }

  /**
   * Pins a run to a version (the latest unless given) and schedules its trigger; resolves once
   * that is durable. A worker (this process's or another's) executes it.
   */
  async start(
    workflowId: string,
    options: {
      input?: unknown;
      version?: number;
      parentRunId?: string;
      trigger?: string;
      by?: string;
      /** Nodes answer from recorded answers where they have one (`ctx.playback`). */
      playback?: boolean;
    } = {},
  ): Promise<RunRecord> {
    const { store, book, commits } = this.#deps;
    const versionNumber = options.version ?? (await store.workflows.latestVersionNumber(workflowId));
    const workflow = versionNumber === undefined ? undefined : await book.find(workflowId, versionNumber);
    if (!workflow)
      throw new EngineError(
        options.version === undefined
          ? `no workflow "${workflowId}"`
          : `workflow "${workflowId}" has no version ${options.version}`,
        'not-found',
      );
    const trigger = options.trigger ?? workflow.manualTrigger;
    if (trigger === null)
      throw new EngineError(
        `workflow "${workflowId}" has no trigger.manual node, so it cannot be started by hand`,
        'invalid',
      );
    if (workflow.nodes.get(trigger)?.definition.role !== 'trigger')
      throw new EngineError(`node "${trigger}" of workflow "${workflowId}" is not a trigger`, 'invalid');
    const input = normaliseJson(runInput(options.input));
    const runId = newRunId(this.#deps.clock.now());
    const parentRunId = options.parentRunId ?? null;
    await commits.run({
      runIds: [],
      creates: runId,
      apply: (batch) =>
        begin(batch, { runId, workflowId, input, parentRunId, forkOf: null }, workflow, trigger, starter(options.by), {
          playback: options.playback === true,
        }),
    });
    return this.#record(runId);
  }

  /**
   * Records an approval decision, once: a second decision on the same wait is refused, naming the
   * first. The journal keeps who, when, the comment and the input the approver was shown.
   */
  decide(
    runId: string,
    decision: string,
    options: { nodeId?: string; by?: string; comment?: string; values?: Record<string, unknown> } = {},
  ): Promise<RunRecord> {
    const signal = {
      decision,
      by: options.by ?? defaultActor(),
      comment: options.comment ?? null,
      ...(options.values !== undefined && { values: options.values }),
    };
    return this.signal(runId, {
      kind: 'approval',
      signal,
      ...(options.nodeId !== undefined && { nodeId: options.nodeId }),
    });
  }

  /** Resolves a run's wait of `kind` with a signal (validated by that kind), once. */
  async signal(
    runId: string,
    target: { kind: string; nodeId?: string; key?: string; signal: unknown },
  ): Promise<RunRecord> {
    return this.#change(runId, (batch) => signalWait(batch, this.#deps.services, { runId, ...target }));
  }

  /**
   * Delivers the signal `name` to the run's `wait.signal` waiting for it: its payload (checked
   * against the node's schema) goes downstream. A run that does not wait for that name — none of
   * its nodes waits on it, it was received already, the run is over — is refused as not waiting.
   */
  async sendSignal(runId: string, name: string, payload: unknown, options: { by?: string } = {}): Promise<RunRecord> {
    const deep = jsonDepthExcess(payload);
    if (deep) throw new EngineError(describeDepthExcess(`signal "${name}"`, 'payload', deep), 'invalid');
    const signal = { name, by: options.by ?? defaultActor(), payload: normaliseJson(payload) };
    try {
      return await this.signal(runId, { kind: 'signal', key: name, signal });
    } catch (error) {
      if (!(error instanceof EngineError)) throw error;
      if (error.code === 'not-waiting')
        throw new EngineError(`run ${runId} does not wait for signal "${name}"`, 'not-waiting');
      if (error.code === 'finished' || error.code === 'already-decided')
        throw new EngineError(`run ${runId} does not wait for signal "${name}": ${error.message}`, 'not-waiting');
      throw error;
    }
  }

  /** Stops the run: open waits and timers are dropped, executing activations aborted. */
  cancel(runId: string, options: { reason?: string; by?: string } = {}): Promise<RunRecord> {
    return this.#change(runId, (batch) => {
      const run = batch.run(runId);
      if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
      if (isTerminal(run.state.status))
        throw new EngineError(`run ${runId} is already ${run.state.status}`, 'finished');
      // Its compensations undo what it did; stopping them halfway would leave that half done.
      if (run.state.status === 'compensating')
        throw new EngineError(`run ${runId} is compensating: its compensations finish first`, 'finished');
      batch.record(runId, {
        type: 'RunCancelled',
        activationId: null,
        nodeId: null,
        attempt: null,
        data: { reason: options.reason ?? null, by: options.by ?? defaultActor() },
      });
    });
  }

  /** Stores the run of an export file, read-only (see importRunExport). */
  import(file: unknown): Promise<{ run: RunRecord; warnings: string[] }> {
    return importRunExport(this.#deps.store, file, this.#deps.clock.now());
  }

  /** An imported run is a record of another database's run: nothing here may change it. */
  async #refuseImported(runId: string): Promise<void> {
    if ((await this.#deps.store.getRun(runId))?.imported)
      throw new EngineError(`run ${runId} was imported: it is read-only and never executes here`, 'invalid');
  }

  /**
   * A new run from step `seq` of another: the nodes completed by then are inherited
   * (`NodeInherited`, never executed again) and the fork goes on from there with its own run id,
   * so its own activations have their own idempotency keys. Enqueued like `start`.
   */
  async fork(
    originId: string,
    options: { seq: number; on?: ForkTarget; setOutput?: Readonly<Record<string, unknown>>; playback?: boolean },
  ): Promise<RunRecord> {
    const { store, book, commits } = this.#deps;
    const origin = await store.getRun(originId);
    if (!origin) throw new EngineError(`no run "${originId}"`, 'not-found');
    const events = await store.readEvents(originId, 0);
    const completed = completedAt(originId, events, options.seq);
    // The fork starts where its origin did: its manual trigger, or the webhook's or schedule's.
    const started = events[0]?.type === 'RunStarted' ? events[0].data.triggerNodeId : null;
    const on = options.on ?? 'same';
    const versionNumber =
      on === 'same'
        ? origin.version
        : on === 'latest'
          ? ((await store.workflows.latestVersionNumber(origin.workflowId)) ?? origin.version)
          : on;
    const workflow = await book.find(origin.workflowId, versionNumber);
    if (!workflow)
      throw new EngineError(`workflow "${origin.workflowId}" has no version ${versionNumber}`, 'not-found');
    const trigger = started ?? workflow.manualTrigger;
    if (trigger === null || workflow.nodes.get(trigger)?.definition.role !== 'trigger')
      throw new EngineError(
        `version ${versionNumber} of "${origin.workflowId}" has no trigger "${trigger ?? 'trigger.manual'}" to start the fork from`,
        'invalid',
      );
    const from = { runId: originId, seq: options.seq };
    const inherited = planInheritance(from, completed, workflow, options.setOutput ?? {});
    const runId = newRunId(this.#deps.clock.now());
    const { workflowId, input } = origin;
    await commits.run({
      runIds: [],
      creates: runId,
      apply: (batch) => {
        begin(batch, { runId, workflowId, input, parentRunId: null, forkOf: from }, workflow, trigger, null, {
          playback: options.playback === true,
        });
        // Inherit each node once the fork's orchestrator has scheduled it, in the origin's
        // completion order; what is left scheduled is the fork's own work.
        const left = new Map(inherited);
        for (;;) {
          const state = batch.run(runId)?.state;
          if (!state || isTerminal(state.status)) break;
          const next = activationsOf(state)
            .filter((activation) => activation.status === 'scheduled' && left.has(activation.activationId))
            .map((activation) => left.get(activation.activationId))
            .sort((a, b) => (a?.resolvedSeq ?? 0) - (b?.resolvedSeq ?? 0))[0];
          if (!next) break;
          left.delete(next.activationId);
          batch.record(runId, {
            type: 'NodeInherited',
            activationId: next.activationId,
            nodeId: next.nodeId,
            attempt: null,
            data: { from, port: next.port, output: next.output, edited: next.edited },
          });
        }
      },
    });
    return this.#record(runId);
  }

  /**
   * A failed run continues: the failed activation(s) whose failure was not handled, and those the
   * failure cancelled, are scheduled again (a new attempt, the same idempotency key); completed
   * nodes are kept. Refused unless the run failed.
   */
  redrive(runId: string, options: { by?: string } = {}): Promise<RunRecord> {
    return this.#change(runId, (batch) => {
      const run = batch.run(runId);
      if (!run) throw new EngineError(`no run "${runId}"`, 'not-found');
      if (run.state.status !== 'failed')
        throw new EngineError(`run ${runId} is ${run.state.status}; only a failed run can be redriven`, 'invalid');
      // Its parent took its end already (failed the node, or recorded the item): a second end would
      // go nowhere, or count twice. Redriving the parent starts the failed work again.
      const { parentRunId } = run.state;
      if (parentRunId !== null && batch.run(parentRunId))
        throw new EngineError(
          `run ${runId} is a child of run ${parentRunId}, which already took its end: redrive run ${parentRunId} once it has failed (its completed items are kept)`,
          'invalid',
        );
      const activationIds = activationsOf(run.state)
        .filter(
          (activation) =>
            activation.status === 'cancelled' ||
            (activation.status === 'failed' && !run.workflow.nodes.get(activation.nodeId)?.hasErrorEdge),
        )
        .map((activation) => activation.activationId);
      batch.record(runId, {
        type: 'RunRedriven',
        activationId: null,
        nodeId: null,
        attempt: null,
        data: { by: options.by ?? defaultActor(), activationIds },
      });
    });
  }

  /** One change to an existing run, in a commit of its own; never to an imported run. */
  async #change(runId: string, apply: (batch: Batch) => void): Promise<RunRecord> {
    await this.#refuseImported(runId);
    await this.#deps.commits.run({ runIds: [runId], fresh: true, apply });
    return this.#record(runId);
  }

  async #record(runId: string): Promise<RunRecord> {
    const record = await this.#deps.store.getRun(runId);
    if (!record) throw new EngineError(`no run "${runId}"`, 'not-found');
    return record;
  }
}

/** A new run's row and its `RunStarted`, in the batch that creates it (start, fork, a schedule's fire). */
export function begin(
  batch: Batch,
  run: Omit<NewRun, 'version'>,
  workflow: CompiledWorkflow,
  triggerNodeId: string,
  startedBy: string | null,
  mode: { playback?: boolean } = {},
): void {
  const { runId, workflowId, input, parentRunId } = run;
  batch.create({ ...run, version: workflow.version }, workflow, initialState(runId));
  batch.record(runId, {
    type: 'RunStarted',
    activationId: null,
    nodeId: null,
    attempt: null,
    // Recorded only when known, so a run started without a name journals what it always did.
    data: {
      workflowId,
      version: workflow.version,
      input,
      triggerNodeId,
      parentRunId,
      ...(startedBy !== null && { startedBy }),
      ...(mode.playback === true && { playback: true }),
    },
  });
}

/** Random bytes drawn 4 KiB at a time: a call into the system's generator per run cost ~20 µs. */
const entropy = { bytes: Buffer.alloc(0), at: 0 };

/** Time-ordered, unique run ids: 9 base-36 time digits + 10 hex random digits. */
export function newRunId(now: number): string {
  if (entropy.at + 5 > entropy.bytes.length) {
    entropy.bytes = randomBytes(4096);
    entropy.at = 0;
  }
  entropy.at += 5;
  return `${now.toString(36).padStart(9, '0')}${entropy.bytes.toString('hex', entropy.at - 5, entropy.at)}`;
}

/** The run input, refused by name when it is nested too deep to serialise (any caller: API, CLI). */
function runInput(input: unknown): unknown {
  const deep = jsonDepthExcess(input);
  if (deep) throw new EngineError(describeDepthExcess('run input', 'input', deep), 'invalid');
  return input ?? null;
}

function normaliseJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value) ?? 'null') as unknown;
}

/** Who started a run, as given (trimmed); none when the name is blank. */
function starter(by: string | undefined): string | null {
  const name = by?.trim() ?? '';
  return name === '' ? null : name;
}

export function defaultActor(): string {
  return process.env.USER ?? process.env.USERNAME ?? 'unknown';
}
