// The `stepwise` CLI: run, start, worker, runs, show, state, inbox, approve, reject, signal, cancel,
// fork, redrive, export, import, replay, validate.
// Exit codes: 0 ok/completed, 1 failed (or a refused command), 2 bad usage or invalid workflow,
// 3 parked waiting for a decision, a signal or a distant timer.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { replayExport, RunExportFormatError } from '../replay/index.js';
import {
  DatabaseError,
  defaultDatabasePath,
  defaultRegistry,
  Engine,
  EngineError,
  MIN_LEASE_MS,
  type RunDetail,
  type RunSummary,
} from '../runtime/engine.js';
import { defaultActor } from '../runtime/run-commands.js';
import { verifyRunExport } from '../runtime/run-export.js';
import { lateTimerLine } from '../runtime/timers.js';
import { serve } from '../host/serve.js';
import { MOCK_SERVICE_DEFAULT_PORT, startMockService } from '../mock-service/server.js';
import { HostStartError } from '../host/supervisor.js';
import { runStatusSchema } from '../api/schemas.js';
import { waitKindOf } from '../waits/index.js';
import { validateWorkflowText, WorkflowInvalidError } from '../validate/index.js';
import { isoTime } from '../model/duration.js';
import { formatEvent, formatRunDetail, formatRunLine } from './format.js';
import { secretsCommand, SecretsUsageError, SECRETS_USAGE } from './secrets.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, parked: 3 } as const;

const RUN_STATUSES = runStatusSchema.options;
const SYNC_MODES = ['FULL', 'NORMAL'] as const;

const USAGE = `Usage: stepwise <command> [options]

Commands:
  run <file> [--input JSON | --input-file FILE] [--by NAME] [--playback]
                                pin the workflow, start a run and execute it until it finishes or parks
  start <file> [--input JSON | --input-file FILE] [--by NAME] [--playback]
                                pin the workflow and enqueue a run; execute nothing
  worker [--until-idle]         execute runs: recover, run ready work, fire timers
  runs [--status S] [--limit N] list runs, newest first (S: ${RUN_STATUSES.join(', ')})
  show <runId>                  a run: status, pinned version, activations, events
  state <runId> [--at SEQ]      every node's state after event SEQ (default: the latest event)
  inbox [--limit N]             everything waiting on a person, newest first (default: 1000)
  approve <runId> [--node ID] [--by NAME] [--comment TEXT] [--set FIELD=JSON ...]
  reject <runId>  [--node ID] [--by NAME] [--comment TEXT]
  decide <runId> <outcome> [--node ID] [--by NAME] [--comment TEXT] [--set FIELD=JSON ...]
                                an approval's outcome (approved, rejected or a custom one), with
                                its form's values; --by defaults to your user name
  signal <runId> <name> [--data JSON | --data-file FILE] [--by NAME]
                                deliver the signal to the run's wait.signal node waiting for it
                                (the payload is checked against the node's schema)
  cancel <runId> [--reason TEXT]
  fork <runId> --at SEQ [--on same|latest|VERSION] [--set-output NODE=JSON ...] [--playback]
                                a new run from step SEQ: nodes completed by then are inherited,
                                not executed again; enqueued (a worker executes it)
  redrive <runId>               a failed run continues from its failed nodes; enqueued
  export <runId> [--out FILE]   the run's version and journal as JSON
  import <export.json>          store an exported run here, read-only (verifies its hash chain first)
  replay <export.json>          verify the export's hash chain, then re-run the orchestrator over its journal
  validate <file>               check a workflow file and list its problems
  serve [--port N]              the editor in a browser: UI and API on 127.0.0.1, with a token
  mock-service [--port N]       the built-in mock service the templates call (a stand-in model,
                                payments, CRM…; not a real provider), on 127.0.0.1 (default 7476)
${SECRETS_USAGE}

Options:
  --db PATH     database file (default: $STEPWISE_DB, else ${defaultDatabasePath()})
  --json        print one JSON object
  --sync MODE   FULL (default) or NORMAL
  --input-file FILE  (run, start) the run input as a JSON file; "-" reads standard input
  --data JSON, --data-file FILE  (signal) the payload, as JSON text or a JSON file ("-": standard input)
  --playback    (run, start, fork) use recorded model answers: llm.chat answers a request it
                answered before from its record, without calling (or paying) the provider
  --concurrency N   (run, worker) activations executing at once (default 64)
  --lease-ms MS     (run, worker) how long the activations of a worker that died stay
                    leased before another worker takes them over (default 10000)
  --disk-full-timeout S   (run, worker) how long to wait for space on a full disk before
                    stopping with an error (default 60)
  -h, --help    this help

Exit codes: 0 completed/ok, 1 failed or refused, 2 bad usage or invalid workflow, 3 parked.`;

const OPTIONS = {
  db: { type: 'string' },
  json: { type: 'boolean', default: false },
  sync: { type: 'string' },
  input: { type: 'string' },
  'input-file': { type: 'string' },
  data: { type: 'string' },
  'data-file': { type: 'string' },
  note: { type: 'string' },
  'until-idle': { type: 'boolean', default: false },
  playback: { type: 'boolean', default: false },
  concurrency: { type: 'string' },
  'lease-ms': { type: 'string' },
  'disk-full-timeout': { type: 'string' },
  status: { type: 'string' },
  limit: { type: 'string' },
  node: { type: 'string' },
  by: { type: 'string' },
  comment: { type: 'string' },
  reason: { type: 'string' },
  out: { type: 'string' },
  at: { type: 'string' },
  port: { type: 'string' },
  value: { type: 'string' },
  on: { type: 'string' },
  'set-output': { type: 'string', multiple: true },
  set: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

class UsageError extends Error {}

interface Io {
  out(text: string): void;
  err(text: string): void;
}

const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};

// `stepwise runs | head` closes the pipe early: that is the reader's choice, not an error to report.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });

export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true }));
  } catch (error) {
    io.err(`stepwise: ${(error as Error).message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  const [command, ...args] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(USAGE);
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok;
  }
  try {
    return await dispatch(command, args, values, io);
  } catch (error) {
    return reportError(error, values.json, io);
  }
}

async function dispatch(command: string, args: string[], values: Values, io: Io): Promise<number> {
  checkChoices(values);
  if (command === 'validate') return validateCommand(requireArg(args, 'a workflow file'), values, io);
  if (command === 'replay') return replayCommand(requireArg(args, 'an export file'), values, io);
  if (command === 'serve') return serveCommand(values, io);
  if (command === 'mock-service') return mockServiceCommand(values, io);
  if (command === 'secrets') return secretsCli(args, values, io);
  const commands: Record<string, (engine: Engine) => Promise<number> | number> = {
    run: (engine) => runCommand(engine, requireArg(args, 'a workflow file'), values, io),
    start: (engine) => startCommand(engine, requireArg(args, 'a workflow file'), values, io),
    worker: (engine) => workerCommand(engine, values, io),
    runs: (engine) => runsCommand(engine, values, io),
    show: (engine) => showCommand(engine, requireArg(args, 'a run id'), values, io),
    inbox: (engine) => inboxCommand(engine, values, io),
    approve: (engine) => decideCommand(engine, 'approved', requireArg(args, 'a run id'), values, io),
    reject: (engine) => decideCommand(engine, 'rejected', requireArg(args, 'a run id'), values, io),
    decide: (engine) =>
      decideCommand(engine, requireArg(args.slice(1), 'an outcome'), requireArg(args, 'a run id'), values, io),
    signal: (engine) => signalCommand(engine, args, values, io),
    cancel: (engine) => cancelCommand(engine, requireArg(args, 'a run id'), values, io),
    export: (engine) => exportCommand(engine, requireArg(args, 'a run id'), values, io),
    state: (engine) => stateCommand(engine, requireArg(args, 'a run id'), values, io),
    import: (engine) => importCommand(engine, requireArg(args, 'an export file'), values, io),
    fork: (engine) => forkCommand(engine, requireArg(args, 'a run id'), values, io),
    redrive: (engine) => redriveCommand(engine, requireArg(args, 'a run id'), values, io),
  };
  const handler = commands[command];
  if (!handler) throw new UsageError(`unknown command "${command}"`);
  const sync = choice(values.sync?.toUpperCase(), SYNC_MODES, '--sync');
  const engine = Engine.open({
    dbPath: values.db ?? process.env.STEPWISE_DB ?? defaultDatabasePath(),
    ...databaseAccess(command, values),
    ...(sync !== undefined && { synchronous: sync }),
    ...(values.concurrency !== undefined && { concurrency: positiveInt(values.concurrency, '--concurrency') }),
    ...(values['lease-ms'] !== undefined && { leaseMs: leaseMs(values['lease-ms']) }),
    logger: {
      info: () => {},
      warn: (message, fields) => io.err(`warning: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
      error: (message, fields) => io.err(`error: ${message}${fields ? ` ${JSON.stringify(fields)}` : ''}`),
    },
  });
  try {
    return await handler(engine);
  } finally {
    await engine.close();
  }
}

async function serveCommand(values: Values, io: Io): Promise<number> {
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0–65535');
  const dbPath = values.db ?? process.env.STEPWISE_DB ?? defaultDatabasePath();
  const app = await serve({ dbPath, port, log: (line) => io.err(line) });
  if (values.json) io.out(JSON.stringify({ url: app.url, port: app.port, token: app.token, dbPath }));
  else
    io.out(`Stepwise is running at ${app.url}\n(database: ${dbPath}; only this machine can connect; Ctrl+C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  return EXIT.ok;
}

async function mockServiceCommand(values: Values, io: Io): Promise<number> {
  const port = values.port === undefined ? MOCK_SERVICE_DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0–65535');
  const service = await startMockService(port);
  if (values.json) io.out(JSON.stringify({ url: service.origin, port: service.port }));
  else io.out(`The Stepwise mock service (not a real provider) is running at ${service.origin}\n(Ctrl+C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await service.close();
  return EXIT.ok;
}

/** Commands that only read open the database read-only (they work in a folder they cannot write). */
function databaseAccess(command: string, values: Values): { readonly?: boolean; diskFullTimeoutMs?: number } {
  if (command === 'runs' || command === 'show' || command === 'export' || command === 'state' || command === 'inbox')
    return { readonly: true };
  const timeout = values['disk-full-timeout'];
  if (timeout === undefined) return {};
  const seconds = Number(timeout);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError('--disk-full-timeout must be a number of seconds');
  return { diskFullTimeoutMs: seconds * 1000 };
}

async function secretsCli(args: string[], values: Values, io: Io): Promise<number> {
  const dbPath = values.db ?? process.env.STEPWISE_DB ?? defaultDatabasePath();
  try {
    return await secretsCommand(args, { dbPath, value: values.value, json: values.json }, io);
  } catch (error) {
    throw error instanceof SecretsUsageError ? new UsageError(error.message) : error;
  }
}

function requireArg(args: string[], what: string): string {
  const value = args[0];
  if (value === undefined) throw new UsageError(`expected ${what}`);
  return value;
}

function positiveInt(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`${flag} must be a positive whole number`);
  return value;
}

function leaseMs(text: string): number {
  const value = positiveInt(text, '--lease-ms');
  if (value < MIN_LEASE_MS) throw new UsageError(`--lease-ms must be at least ${MIN_LEASE_MS} (a few heartbeats)`);
  return value;
}

/** Options that take one of a few words: a value outside them is refused before anything runs. */
function checkChoices(values: Values): void {
  choice(values.sync?.toUpperCase(), SYNC_MODES, '--sync');
  choice(values.status, RUN_STATUSES, '--status');
}

function choice<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined || (allowed as readonly string[]).includes(value)) return value as T | undefined;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
}

/** The run input from `--input JSON` or `--input-file FILE` ("-": standard input), else null. */
function readInput(values: Values): unknown {
  return readJsonOption(values.input, values['input-file'], 'input');
}

/** JSON from `--<flag> JSON` or `--<flag>-file FILE` ("-": standard input), else null. */
function readJsonOption(inline: string | undefined, file: string | undefined, flag: string): unknown {
  if (file !== undefined && inline !== undefined) throw new UsageError(`give --${flag} or --${flag}-file, not both`);
  if (file === undefined && inline === undefined) return null;
  const [text, from] =
    file === undefined ? [inline ?? '', `--${flag}`] : [readInputFile(file), `--${flag}-file ${file}`];
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(`${from} is not valid JSON: ${(error as Error).message}`);
  }
}

function readInputFile(file: string): string {
  try {
    // fd 0 rather than /dev/stdin: a pipe, a file or a terminal, on every platform.
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read ${file === '-' ? 'standard input' : file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function readWorkflowFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

async function pinAndStart(engine: Engine, file: string, values: Values, io: Io): Promise<RunSummary> {
  const input = readInput(values);
  const saved = await engine.workflows.save(
    readWorkflowFile(file),
    values.note === undefined ? {} : { note: values.note },
  );
  if (!values.json) for (const warning of saved.warnings) io.err(`warning: ${warning.message}`);
  return engine.commands.start(saved.workflowId, {
    version: saved.version,
    input,
    by: values.by ?? defaultActor(),
    ...(values.playback && { playback: true }),
  });
}

/** `NAME=JSON` options (`--set-output`, `--set`) as an object. */
function assignments(items: readonly string[], option: string, name: string): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    if (equals < 1) throw new UsageError(`${option} takes ${name}=JSON, got "${item}"`);
    const key = item.slice(0, equals);
    try {
      result[key] = JSON.parse(item.slice(equals + 1)) as unknown;
    } catch (error) {
      throw new UsageError(`${option} ${key}: not JSON (${(error as Error).message})`);
    }
  }
  return result;
}

async function runCommand(engine: Engine, file: string, values: Values, io: Io): Promise<number> {
  const started = await pinAndStart(engine, file, values, io);
  engine.startWorker({ runId: started.runId });
  const detail = await engine.waitForRun(started.runId, { until: 'settled' });
  await engine.stopWorker();
  const final = (await engine.queries.get(started.runId)) ?? detail;
  printRunResult(final, values, io);
  return exitCodeOf(final);
}

async function startCommand(engine: Engine, file: string, values: Values, io: Io): Promise<number> {
  const started = await pinAndStart(engine, file, values, io);
  if (values.json) io.out(JSON.stringify(runJson(started)));
  else io.out(`${started.runId}  ${started.workflowId} v${started.version}  ${started.status}`);
  return EXIT.ok;
}

async function workerCommand(engine: Engine, values: Values, io: Io): Promise<number> {
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // Timers that came due while nothing ran fire in the worker's first cycles: say which were late.
  const { lateTimers } = engine.startWorker();
  const reported = lateTimers.swept.then(() => {
    for (const timer of lateTimers.list) io.err(`stepwise worker: ${lateTimerLine(timer)}`);
  });
  try {
    if (values['until-idle']) {
      await engine.runUntilIdle({ signal: controller.signal });
      await reported;
    } else {
      await engine.startWorker().started;
      if (!values.json) io.err('stepwise worker: running (Ctrl+C to stop)');
      // The worker's own timers are unref'd (an embedding app decides its lifetime); this one
      // keeps the CLI process alive until a signal.
      const keepAlive = setInterval(() => {}, 1 << 30);
      const failure = await Promise.race([
        new Promise<null>((resolve) => controller.signal.addEventListener('abort', () => resolve(null))),
        engine.failed,
      ]);
      clearInterval(keepAlive);
      if (failure) throw failure;
      await engine.stopWorker();
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const counts = Object.fromEntries(Object.entries(await engine.queries.counts()).filter(([, count]) => count > 0));
  if (values.json) io.out(JSON.stringify({ status: 'idle', runs: counts }));
  else
    io.out(
      `idle: ${
        Object.entries(counts)
          .map(([status, n]) => `${n} ${status}`)
          .join(', ') || 'no runs'
      }`,
    );
  return EXIT.ok;
}

async function runsCommand(engine: Engine, values: Values, io: Io): Promise<number> {
  const status = choice(values.status, RUN_STATUSES, '--status');
  const { runs } = await engine.queries.list(status === undefined ? {} : { status: [status] }, {
    limit: values.limit === undefined ? 50 : positiveInt(values.limit, '--limit'),
  });
  if (values.json) io.out(JSON.stringify({ runs: runs.map(runJson) }));
  else if (runs.length === 0) io.out('no runs');
  else for (const run of runs) io.out(formatRunLine(run));
  return EXIT.ok;
}

async function showCommand(engine: Engine, idOrPrefix: string, values: Values, io: Io): Promise<number> {
  const detail = await engine.queries.get(await engine.queries.resolveId(idOrPrefix));
  if (!detail) throw new EngineError(`no run "${idOrPrefix}"`, 'not-found');
  if (values.json)
    io.out(
      JSON.stringify({
        ...runJson(detail),
        settled: detail.settled,
        versionHash: detail.versionHash,
        activations: detail.activations,
        approvals: detail.approvals,
        forks: detail.forks,
        children: detail.children,
        events: detail.events,
      }),
    );
  else io.out(formatRunDetail(detail));
  return EXIT.ok;
}

async function inboxCommand(engine: Engine, values: Values, io: Io): Promise<number> {
  const limit = values.limit === undefined ? 1000 : positiveInt(values.limit, '--limit');
  // One more than shown says whether the list was cut short.
  const rows = await engine.queries.inbox(limit + 1);
  const items = rows.slice(0, limit).map((row) => ({
    runId: row.runId,
    nodeId: row.nodeId,
    title: row.title,
    since: isoTime(row.createdAt),
    outcomes: row.card.outcomes.map((outcome) => outcome.port),
  }));
  if (values.json) {
    io.out(JSON.stringify(items));
    return EXIT.ok;
  }
  if (items.length === 0) io.out('nothing waits on a person');
  else
    io.out(
      formatTable(
        ['RUN', 'NODE', 'TITLE', 'SINCE', 'OUTCOMES'],
        items.map((item) => [item.runId, item.nodeId, item.title, item.since, item.outcomes.join(' / ')]),
      ),
    );
  if (rows.length > limit) io.err(`(the newest ${limit} shown; --limit N shows more)`);
  return EXIT.ok;
}

/** Columns padded to their widest cell; the last one is not padded. */
function formatTable(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  return all
    .map((row) =>
      row
        .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

async function decideCommand(
  engine: Engine,
  decision: string,
  idOrPrefix: string,
  values: Values,
  io: Io,
): Promise<number> {
  const runId = await engine.queries.resolveId(idOrPrefix);
  const summary = await engine.commands.decide(runId, decision, {
    ...(values.node !== undefined && { nodeId: values.node }),
    ...(values.by !== undefined && { by: values.by }),
    ...(values.comment !== undefined && { comment: values.comment }),
    ...(values.set !== undefined && { values: assignments(values.set, '--set', 'FIELD') }),
  });
  if (values.json) io.out(JSON.stringify({ ...runJson(summary), decision }));
  // Still waiting right after a decision: it was a vote towards a quorum, not the end of the wait.
  else if (summary.status === 'waiting')
    io.out(`${decision} — recorded as a vote; run ${runId} waits for more approvals (its quorum is not met)`);
  else io.out(`${decision} — run ${runId} continues (a worker executes it)`);
  return EXIT.ok;
}

async function signalCommand(engine: Engine, args: string[], values: Values, io: Io): Promise<number> {
  const [idOrPrefix, name] = args;
  if (idOrPrefix === undefined) throw new UsageError('expected a run id');
  if (name === undefined) throw new UsageError('expected a signal name: stepwise signal <runId> <name>');
  const payload = readJsonOption(values.data, values['data-file'], 'data');
  const runId = await engine.queries.resolveId(idOrPrefix);
  const summary = await engine.commands.sendSignal(
    runId,
    name,
    payload,
    values.by === undefined ? {} : { by: values.by },
  );
  if (values.json) io.out(JSON.stringify({ ...runJson(summary), signal: name }));
  else io.out(`signal "${name}" delivered — run ${runId} continues (a worker executes it)`);
  return EXIT.ok;
}

async function cancelCommand(engine: Engine, idOrPrefix: string, values: Values, io: Io): Promise<number> {
  const summary = await engine.commands.cancel(
    await engine.queries.resolveId(idOrPrefix),
    values.reason === undefined ? {} : { reason: values.reason },
  );
  if (values.json) io.out(JSON.stringify(runJson(summary)));
  else io.out(`cancelled ${summary.runId}`);
  return EXIT.ok;
}

async function forkCommand(engine: Engine, idOrPrefix: string, values: Values, io: Io): Promise<number> {
  if (values.at === undefined) throw new UsageError('fork needs --at SEQ: the step to fork from');
  const seq = positiveInt(values.at, '--at');
  const on = forkTarget(values.on);
  const setOutput = assignments(values['set-output'] ?? [], '--set-output', 'NODE');
  const fork = await engine.commands.fork(await engine.queries.resolveId(idOrPrefix), {
    seq,
    on,
    setOutput,
    ...(values.playback && { playback: true }),
  });
  if (values.json) io.out(JSON.stringify({ ...runJson(fork), forkOf: fork.forkOf }));
  else
    io.out(
      `${fork.runId}  ${fork.workflowId} v${fork.version}  ${fork.status}  (fork of ${fork.forkOf?.runId ?? '?'} at #${seq}; a worker executes it)`,
    );
  return EXIT.ok;
}

function forkTarget(text: string | undefined): 'same' | 'latest' | number {
  if (text === undefined || text === 'same' || text === 'latest') return text ?? 'same';
  if (/^[1-9]\d*$/.test(text)) return Number(text);
  throw new UsageError(`--on takes same, latest or a version number, got "${text}"`);
}

async function redriveCommand(engine: Engine, idOrPrefix: string, values: Values, io: Io): Promise<number> {
  const summary = await engine.commands.redrive(await engine.queries.resolveId(idOrPrefix));
  if (values.json) io.out(JSON.stringify(runJson(summary)));
  else io.out(`redriven — run ${summary.runId} continues from its failed nodes (a worker executes it)`);
  return EXIT.ok;
}

async function exportCommand(engine: Engine, idOrPrefix: string, values: Values, io: Io): Promise<number> {
  const exported = await engine.queries.export(await engine.queries.resolveId(idOrPrefix));
  const text = JSON.stringify(exported, null, 2);
  if (values.out !== undefined) {
    writeFileSync(values.out, `${text}\n`);
    if (!values.json) io.err(`wrote ${values.out}`);
    else io.out(JSON.stringify({ runId: exported.run.runId, file: values.out, events: exported.events.length }));
  } else io.out(text);
  return EXIT.ok;
}

async function stateCommand(engine: Engine, idOrPrefix: string, values: Values, io: Io): Promise<number> {
  const seq = values.at === undefined ? undefined : Number(values.at);
  if (seq !== undefined && !Number.isInteger(seq)) throw new UsageError('--at must be an event number');
  const state = await engine.queries.state(await engine.queries.resolveId(idOrPrefix), seq);
  if (values.json) io.out(JSON.stringify(state));
  else {
    io.out(`run ${state.runId} after event #${state.seq}: ${state.status}`);
    for (const [nodeId, node] of Object.entries(state.nodes))
      io.out(
        `  ${nodeId}  ${node.status}${node.attempts > 1 ? ` (${node.attempts} attempts)` : ''}${node.error ? `  error: ${errorText(node.error)}` : ''}`,
      );
  }
  return EXIT.ok;
}

async function importCommand(engine: Engine, file: string, values: Values, io: Io): Promise<number> {
  const { run, warnings } = await engine.commands.import(readJsonFile(file));
  for (const warning of warnings) io.err(`warning: ${warning}`);
  if (values.json) io.out(JSON.stringify({ runId: run.runId }));
  else
    io.out(
      `imported run ${run.runId} (${run.workflowId} v${run.version}, ${run.status}): read-only, see stepwise show ${run.runId}`,
    );
  return EXIT.ok;
}

function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(readWorkflowFile(file)) as unknown;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

function validateCommand(file: string, values: Values, io: Io): number {
  const result = validateWorkflowText(readWorkflowFile(file), defaultRegistry());
  if (values.json) io.out(JSON.stringify({ ok: result.ok, problems: result.problems }));
  else if (result.problems.length === 0) io.out(`${file}: valid`);
  else for (const problem of result.problems) io.out(`${problem.severity}: ${problem.message}`);
  return result.ok ? EXIT.ok : EXIT.usage;
}

function replayCommand(file: string, values: Values, io: Io): number {
  const parsed = readJsonFile(file);
  // The chain first: a journal that was edited or cut short is refused before it is replayed.
  const integrity = verifyRunExport(parsed);
  if (!integrity.verified && integrity.problem !== 'unchained') {
    if (values.json) io.out(JSON.stringify({ ok: false, integrity }));
    else io.out(`replay refused: ${file}: ${integrity.message}`);
    return EXIT.failed;
  }
  if (!integrity.verified) io.err(`warning: ${integrity.message}`);
  const result = replayExport(parsed, defaultRegistry());
  if (values.json) io.out(JSON.stringify({ ...result, integrity }));
  else if (result.ok)
    io.out(
      `replay matches: ${result.events} events of run ${result.runId} agree with the orchestrator${integrity.verified ? ` (hash chain verified, head ${integrity.head.slice(0, 12)})` : ''}`,
    );
  else {
    const { divergence } = result;
    io.out(`replay diverges at event #${divergence.seq} of run ${result.runId}: ${divergence.message}`);
    if (divergence.recorded) io.out(`  recorded: ${formatEvent(divergence.recorded)}`);
    if (divergence.expected) io.out(`  expected: ${divergence.expected}`);
  }
  return result.ok ? EXIT.ok : EXIT.failed;
}

function printRunResult(detail: RunDetail, values: Values, io: Io): void {
  if (values.json) {
    io.out(JSON.stringify({ ...runJson(detail), settled: detail.settled, waitingFor: waitingFor(detail) }));
    return;
  }
  io.out(
    `run ${detail.runId}  ${detail.workflowId} v${detail.version}  ${detail.status}${detail.settled === 'parked' && detail.status !== 'waiting' ? ' (parked)' : ''}`,
  );
  if (detail.status === 'completed') io.out(`output: ${JSON.stringify(detail.output, null, 2)}`);
  if (detail.status === 'failed') io.out(`error: ${errorText(detail.error)}`);
  if (detail.status === 'compensated')
    io.out(
      `compensated: every completed step was undone${detail.error ? ` after: ${errorText(detail.error)}` : ' after the cancellation'}`,
    );
  if (detail.status === 'compensation_failed')
    io.out(`COMPENSATION FAILED: ${errorText(detail.error)} — a step stays done; see: stepwise show ${detail.runId}`);
  for (const line of waitingFor(detail)) io.out(`waiting: ${line}`);
  if (detail.settled === 'parked') io.out(`continue with: ${continueWith(detail)}`);
}

/** What moves a parked run on, by what it waits for (a child run: whatever its own wait is). */
function continueWith(detail: RunDetail): string {
  const waits = detail.activations.flatMap((activation) =>
    activation.status === 'waiting' && activation.wait !== null ? [activation.wait] : [],
  );
  const then = 'then: stepwise worker';
  if (waits.some((wait) => wait.kind === 'approval')) return `stepwise approve ${detail.runId}  (or reject), ${then}`;
  const signal = waits.find((wait) => wait.kind === 'signal');
  if (signal?.kind === 'signal') return `stepwise signal ${detail.runId} ${signal.name}, ${then}`;
  if (waits.some((wait) => wait.kind === 'child' || wait.kind === 'children'))
    return `what its child runs wait for (stepwise inbox), ${then}`;
  return 'stepwise worker (it fires the timers when they are due)';
}

function waitingFor(detail: RunDetail): string[] {
  return detail.activations.flatMap((activation) => {
    if (activation.status === 'waiting' && activation.wait !== null) {
      const kind = waitKindOf(activation.wait);
      return [`${kind.label.toLowerCase()} "${activation.nodeId}": ${kind.describe(activation.wait)}`];
    }
    if (activation.status === 'retrying')
      return [
        `retry of "${activation.nodeId}" (attempt ${activation.attempt + 1}) at ${isoTime(activation.retryDueAt ?? 0)}`,
      ];
    return [];
  });
}

function exitCodeOf(detail: RunDetail): number {
  if (detail.status === 'completed') return EXIT.ok;
  // A compensated run failed (or was cancelled) all the same; its steps were undone.
  if (
    detail.status === 'failed' ||
    detail.status === 'cancelled' ||
    detail.status === 'compensated' ||
    detail.status === 'compensation_failed'
  )
    return EXIT.failed;
  return EXIT.parked;
}

function runJson(run: RunSummary): Record<string, unknown> {
  return {
    runId: run.runId,
    status: run.status,
    output: run.output,
    error: run.error,
    workflowId: run.workflowId,
    version: run.version,
    input: run.input,
    parentRunId: run.parentRunId,
    forkOf: run.forkOf,
    createdAt: isoTime(run.createdAt),
    finishedAt: run.finishedAt === null ? null : isoTime(run.finishedAt),
    imported: run.imported,
  };
}

function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) {
    const { message, nodeId, kind } = error as { message: string; nodeId?: string | null; kind?: string };
    return `${nodeId ? `node "${nodeId}": ` : ''}${message}${kind ? ` [${kind}]` : ''}`;
  }
  return JSON.stringify(error);
}

function reportError(error: unknown, json: boolean | undefined, io: Io): number {
  let code: number = EXIT.failed;
  let message: string;
  let problems: unknown;
  if (error instanceof UsageError) {
    code = EXIT.usage;
    message = `${error.message}\n\n${USAGE}`;
  } else if (error instanceof WorkflowInvalidError) {
    code = EXIT.usage;
    message = error.message;
    problems = error.problems;
  } else if (error instanceof RunExportFormatError) {
    code = EXIT.usage;
    message = error.message;
  } else if (error instanceof EngineError || error instanceof DatabaseError || error instanceof HostStartError) {
    message = error.message;
  } else if (isSqliteError(error)) {
    message = `database error: ${error.message}${sqliteHint(error.code)}`;
  } else {
    message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  if (json) io.out(JSON.stringify({ error: message.split('\n\n')[0], ...(problems !== undefined && { problems }) }));
  io.err(`stepwise: ${message}`);
  return code;
}

function sqliteHint(code: string): string {
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return ' (the file is corrupt or not a Stepwise database)';
  if (code === 'SQLITE_FULL') return ' (free some space; nothing committed was lost)';
  if (code.startsWith('SQLITE_READONLY')) return ' (the database or its folder is not writable)';
  return '';
}

function isSqliteError(error: unknown): error is Error & { code: string } {
  return error instanceof Error && error.name === 'SqliteError';
}
