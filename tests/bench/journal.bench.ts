// `npm run bench` (journal): stepping through a 10,000-event run, as the time-travel view does.
// The journal is made by the engine's own pure step (orchestrator/step.ts) over two workflows: a
// long chain (deep: one activation after another) and a fan-out (wide: thousands open at once).
// Measured: the first pass forward (every state computed once and kept), then stepping back and
// forward over kept states, and a cold `stateAt(k)` (a fold from the start) for comparison.
import type { JournalEvent, NewEvent } from '../../engine/journal/events.js';
import { initialState, stateAt } from '../../engine/journal/state.js';
import { RunTimeline } from '../../engine/journal/timeline.js';
import type { Workflow } from '../../engine/model/workflow.js';
import { compileWorkflow } from '../../engine/orchestrator/compile.js';
import { record } from '../../engine/orchestrator/step.js';
import { defaultRegistry } from '../../engine/runtime/engine.js';
import { percentile, printTable } from './table.js';

const TARGET_EVENTS = Number(process.env.BENCH_JOURNAL_EVENTS ?? 10_000);
const STEPS = 20_000;

function graph(id: string, shape: 'chain' | 'fan-out', count: number): Workflow {
  const middle = Array.from({ length: count }, (_, index) => `n${index}`);
  const nodes = [
    { id: 'start', type: 'trigger.manual' },
    ...middle.map((nodeId) => ({ id: nodeId, type: 'code', config: { code: 'return input;' } })),
    ...(shape === 'fan-out' ? [{ id: 'join', type: 'merge' }] : []),
    { id: 'end', type: 'output' },
  ];
  const edge = (source: string, target: string) => ({
    id: `${source}-${target}`,
    source,
    sourceHandle: 'out',
    target,
    targetHandle: 'in',
  });
  const edges =
    shape === 'chain'
      ? nodes.slice(1).map((item, index) => edge((nodes[index] as { id: string }).id, item.id))
      : [
          ...middle.map((nodeId) => edge('start', nodeId)),
          ...middle.map((nodeId) => edge(nodeId, 'join')),
          edge('join', 'end'),
        ];
  return {
    format: 'stepwise/workflow@1',
    id,
    name: id,
    nodes: nodes.map((item, index) => ({
      typeVersion: 1,
      position: { x: index, y: 0 },
      config: {},
      ...item,
    })),
    edges,
  };
}

/** Runs the workflow through the pure step: every scheduled node starts and completes in turn. */
function journalOf(workflow: Workflow): JournalEvent[] {
  const compiled = compileWorkflow({ workflowId: workflow.id, version: 1, graph: workflow }, defaultRegistry());
  let state = initialState('bench-run');
  const journal: JournalEvent[] = [];
  let at = 1_800_000_000_000;
  const apply = (event: NewEvent): void => {
    const stepped = record(compiled, state, event, (at += 1));
    state = stepped.state;
    journal.push(...stepped.appended);
  };
  apply({
    type: 'RunStarted',
    activationId: null,
    nodeId: null,
    attempt: null,
    data: { workflowId: workflow.id, version: 1, input: { n: 1 }, triggerNodeId: 'start', parentRunId: null },
  });
  for (let guard = 0; guard < 1_000_000 && state.status === 'running'; guard += 1) {
    const next = [...state.activations.values()].find((activation) => activation.status === 'scheduled');
    if (!next) break;
    const base = { activationId: next.activationId, nodeId: next.nodeId, attempt: next.attempt };
    apply({ ...base, type: 'NodeStarted', data: { worker: 'bench', recovered: false } });
    apply({ ...base, type: 'NodeCompleted', data: { port: 'out', output: next.input } });
  }
  return journal;
}

interface Row {
  name: string;
  events: number;
  activations: number;
  firstPassMs: number;
  backP50: number;
  backP99: number;
  forwardP50: number;
  forwardP99: number;
  coldP50: number;
  heapMb: number;
}

function measure(name: string, workflow: Workflow): Row {
  const events = journalOf(workflow);
  // Warm-up: one cold fold, so the first pass measures the fold and not the JIT.
  stateAt('bench-run', events, events.length);
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const timeline = new RunTimeline('bench-run', events);
  const started = performance.now();
  timeline.at(events.length);
  const firstPassMs = performance.now() - started;
  globalThis.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1024 / 1024;

  // A scrubber: random positions, then a step back or forward from each.
  let seed = 42;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 0x100000000;
  };
  const back: number[] = [];
  const forward: number[] = [];
  let checksum = 0;
  for (let index = 0; index < STEPS; index += 1) {
    const k = 1 + Math.floor(random() * (events.length - 1));
    const list = index % 2 === 0 ? back : forward;
    const target = index % 2 === 0 ? k - 1 : k + 1;
    const begin = performance.now();
    checksum += timeline.at(target).lastSeq;
    list.push((performance.now() - begin) * 1000);
  }
  const cold: number[] = [];
  for (let index = 0; index < 20; index += 1) {
    const k = Math.floor(random() * events.length);
    const begin = performance.now();
    checksum += stateAt('bench-run', events, k).lastSeq;
    cold.push(performance.now() - begin);
  }
  if (checksum < 0) console.log(checksum);
  back.sort((a, b) => a - b);
  forward.sort((a, b) => a - b);
  cold.sort((a, b) => a - b);
  return {
    name,
    events: events.length,
    activations: timeline.at(events.length).activations.size,
    firstPassMs,
    backP50: percentile(back, 0.5),
    backP99: percentile(back, 0.99),
    forwardP50: percentile(forward, 0.5),
    forwardP99: percentile(forward, 0.99),
    coldP50: percentile(cold, 0.5),
    heapMb,
  };
}

// A chain of n code nodes makes 3n + 6 events; a fan-out of n makes 3n + 9.
const count = Math.max(1, Math.round((TARGET_EVENTS - 6) / 3));
const rows = [
  measure('chain (deep)', graph('chain', 'chain', count)),
  measure('fan-out (wide)', graph('wide', 'fan-out', count)),
];

console.log(
  `\nStepwise journal stepping — a run of about ${TARGET_EVENTS} events; ${STEPS} random single steps over kept states.\n`,
);
printTable([
  [
    'workflow',
    'events',
    'activations',
    'first pass (all states)',
    'per event',
    'step back p50 / p99',
    'step forward p50 / p99',
    'cold stateAt(k) p50',
    'heap for all states',
  ],
  ...rows.map((row) => [
    row.name,
    String(row.events),
    String(row.activations),
    `${row.firstPassMs.toFixed(1)} ms`,
    `${((row.firstPassMs * 1000) / row.events).toFixed(1)} µs`,
    `${row.backP50.toFixed(2)} / ${row.backP99.toFixed(2)} µs`,
    `${row.forwardP50.toFixed(2)} / ${row.forwardP99.toFixed(2)} µs`,
    `${row.coldP50.toFixed(1)} ms`,
    `${row.heapMb.toFixed(1)} MB`,
  ]),
]);
console.log(
  '\nTarget: stepping forward and back through a 10,000-event run < 1 ms per step (the first pass included).',
);
