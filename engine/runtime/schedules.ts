// Schedule triggers: their rows follow each workflow's latest version (synced when a version is
// saved and when a worker starts; a deleted workflow's rows go with it in the store), and a worker
// fires the due ones. A fire is one commit item: the runs it starts (on the latest version, from
// the trigger node) and the row moved on to the next fire time, checked against the time it was
// read at — so of two workers, one fires an occurrence and the other's item is dropped.
// Fires missed while nothing ran follow the trigger's misfire policy (see `planFire`).
import { fireTimesBetween, nextFireTime, parseCron, type Schedule } from '../model/cron.js';
import { isoTime } from '../model/duration.js';
import type { CompiledWorkflow } from '../orchestrator/compile.js';
import type { Logger } from '../sdk/index.js';
import type { ScheduleRecord, Store } from '../store/index.js';
import type { Clock } from './clock.js';
import { errorText } from './errors.js';
import type { CommitItem } from './group-commit.js';
import type { RunBook } from './run-book.js';
import { begin, newRunId } from './run-commands.js';

const SCHEDULE_BATCH = 100;

/** The run input of a scheduled run. */
export interface ScheduledInput {
  scheduledAt: string;
  firedAt: string;
  lateMs: number;
}

/** What firing a due row does: the occurrences that get a run, and the row's next fire time (null: none). */
export interface FirePlan {
  fires: number[];
  nextAt: number | null;
}

/**
 * The fires of a row due at `now`. Occurrences from the row's `nextAt` up to `now` are due; one
 * at most `graceMs` old is on time, an older one was missed (nothing ran then):
 * - `once`: one run, for the latest due occurrence (its `lateMs` says how late);
 * - `skip`: runs only for on-time occurrences; the missed ones are dropped;
 * - `all`: a run for each due occurrence, the latest `maxCatchUp` of them.
 * The row then moves to the first fire time after `now`.
 */
export function planFire(schedule: Schedule, nextAt: number, now: number): FirePlan {
  const spec = parseCron(schedule.cron);
  const { timeZone } = schedule;
  const next = nextFireTime(spec, timeZone, now);
  if (nextAt > now) return { fires: [], nextAt };
  const from = schedule.misfire === 'skip' ? Math.max(nextAt, now - schedule.graceMs) : nextAt;
  const limit = schedule.misfire === 'once' ? 1 : schedule.misfire === 'all' ? schedule.maxCatchUp : SCHEDULE_BATCH;
  return { fires: fireTimesBetween(spec, timeZone, from - 1, now, limit), nextAt: next };
}

export interface ScheduleDeps {
  store: Store;
  book: RunBook;
  clock: Clock;
  logger: Logger;
}

export class Schedules {
  readonly #deps: ScheduleDeps;
  /** No row is due before this, as far as this process knows (saves the query on most cycles). */
  #hint = Number.NEGATIVE_INFINITY;

  constructor(deps: ScheduleDeps) {
    this.#deps = deps;
  }

  due(now: number): boolean {
    return now >= this.#hint;
  }

  /** Re-reads the earliest fire time (rows other processes wrote). */
  async refresh(): Promise<void> {
    this.#hint = (await this.#deps.store.nextScheduleDue(Number.NEGATIVE_INFINITY)) ?? Number.POSITIVE_INFINITY;
  }

  /** Makes the workflow's rows those of its latest version's schedule triggers. */
  async sync(workflowId: string): Promise<void> {
    const { store, book, clock } = this.#deps;
    const record = await store.workflows.get(workflowId);
    const latest = record?.latestVersion ?? null;
    const workflow = latest === null ? undefined : await book.find(workflowId, latest);
    const now = clock.now();
    const wanted: ScheduleRecord[] = [];
    for (const [nodeId, schedule] of workflow ? schedulesOf(workflow) : []) {
      const nextAt = nextFireTime(parseCron(schedule.cron), schedule.timeZone, now);
      if (nextAt !== null) wanted.push({ workflowId, nodeId, schedule, nextAt });
    }
    await store.syncSchedules(workflowId, wanted);
    for (const row of wanted) this.#lower(row.nextAt);
  }

  /** Every workflow's rows (a worker's start): versions saved by other processes, deleted workflows. */
  async syncAll(): Promise<void> {
    const { store, logger } = this.#deps;
    const ids = new Set((await store.workflows.list()).map((workflow) => workflow.id));
    for (const row of await store.schedules()) ids.add(row.workflowId);
    for (const workflowId of ids)
      try {
        await this.sync(workflowId);
      } catch (error) {
        logger.error('could not schedule a workflow', { workflowId, error: errorText(error) });
      }
  }

  /** Items firing the rows due at `now`. */
  async take(now: number): Promise<CommitItem[]> {
    if (now < this.#hint) return [];
    const { store } = this.#deps;
    const due = await store.dueSchedules(now, SCHEDULE_BATCH);
    this.#hint = due.length === SCHEDULE_BATCH ? now : ((await store.nextScheduleDue(now)) ?? Number.POSITIVE_INFINITY);
    const items: CommitItem[] = [];
    for (const row of due)
      try {
        items.push(await this.#fireItem(row, now));
      } catch (error) {
        this.#deps.logger.error('could not fire a schedule', {
          workflowId: row.workflowId,
          nodeId: row.nodeId,
          error: errorText(error),
        });
      }
    return items;
  }

  async #fireItem(row: ScheduleRecord, now: number): Promise<CommitItem> {
    const { store, book, logger } = this.#deps;
    const record = await store.workflows.get(row.workflowId);
    const latest = record?.latestVersion ?? null;
    const workflow = latest === null ? undefined : await book.find(row.workflowId, latest);
    const schedule = workflow ? schedulesOf(workflow).get(row.nodeId) : undefined;
    // The workflow or its trigger is gone from the latest version (a save by a process that did
    // not sync): the row goes. A changed rule starts over from now, firing nothing missed.
    const plan: FirePlan =
      !workflow || !schedule
        ? { fires: [], nextAt: null }
        : sameSchedule(schedule, row.schedule)
          ? planFire(schedule, row.nextAt, now)
          : { fires: [], nextAt: nextFireTime(parseCron(schedule.cron), schedule.timeZone, now) };
    const runs = workflow ? plan.fires.map((scheduledAt) => ({ runId: newRunId(now), scheduledAt })) : [];
    return {
      runIds: [],
      ...(runs[0] !== undefined && { creates: runs[0].runId }),
      apply: (batch) => {
        for (const { runId, scheduledAt } of runs) {
          const input: ScheduledInput = {
            scheduledAt: isoTime(scheduledAt),
            firedAt: isoTime(now),
            lateMs: now - scheduledAt,
          };
          if (workflow)
            begin(
              batch,
              { runId, workflowId: row.workflowId, input, parentRunId: null, forkOf: null },
              workflow,
              row.nodeId,
              'schedule',
            );
        }
        batch.advanceSchedule({
          workflowId: row.workflowId,
          nodeId: row.nodeId,
          expectedNextAt: row.nextAt,
          nextAt: plan.nextAt,
        });
      },
      settle: (error) => {
        if (error === null) {
          if (plan.nextAt !== null) this.#lower(plan.nextAt);
          return;
        }
        logger.error('could not fire a schedule', {
          workflowId: row.workflowId,
          nodeId: row.nodeId,
          error: errorText(error),
        });
      },
      firesSchedule: (workflowId, nodeId) => workflowId === row.workflowId && nodeId === row.nodeId,
    };
  }

  #lower(nextAt: number): void {
    this.#hint = Math.min(this.#hint, nextAt);
  }
}

/** The schedule triggers of a compiled version, by node id. */
export function schedulesOf(workflow: CompiledWorkflow): Map<string, Schedule> {
  const found = new Map<string, Schedule>();
  for (const [nodeId, node] of workflow.nodes) {
    const schedule = node.definition.schedule?.(node.config) ?? null;
    if (schedule !== null) found.set(nodeId, schedule);
  }
  return found;
}

function sameSchedule(a: Schedule, b: Schedule): boolean {
  return (
    a.cron === b.cron &&
    a.timeZone === b.timeZone &&
    a.misfire === b.misfire &&
    a.maxCatchUp === b.maxCatchUp &&
    a.graceMs === b.graceMs
  );
}
