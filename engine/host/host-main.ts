// The engine host: a plain Node process that owns the database, runs workflows and answers
// EngineApi requests. Started by `stepwise serve` (child_process.fork, frames over IPC, tagged by
// client) or by the desktop app (Electron utilityProcess, one MessagePort per window).
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { dispatch, type EventData, type EventName, type ResponseFrame, type ServerFrame } from '../api/index.js';
import { Engine } from '../runtime/engine.js';
import { lateTimerLine } from '../runtime/timers.js';
import { openKeychainCredentials } from './keychain.js';
import { listenLocalApi } from './local-http.js';
import { MockServiceHost } from './mock-host.js';
import { EngineService } from './service.js';
import type { HostToParent, ParentToHost } from './ipc.js';

/** The parts of Electron's `process.parentPort` and MessagePortMain the host uses. */
interface PortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  on(event: 'close', listener: () => void): void;
  postMessage(message: unknown): void;
  start(): void;
}
interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown; ports: PortLike[] }) => void): void;
  postMessage(message: unknown): void;
}

/**
 * Sends a response frame. One that cannot be serialized (e.g. a result nested too deeply for the
 * channel) is answered with an error instead of an exception, which would stop the host.
 */
function reply(frame: ResponseFrame | null, send: (frame: ResponseFrame) => void): void {
  if (frame === null) return;
  try {
    send(frame);
  } catch (error) {
    const message = `the answer could not be sent: ${error instanceof Error ? error.message : String(error)}`;
    send({ t: 'res', id: frame.id, ok: false, error: { code: 'internal', message, problems: [] } });
  }
}

export async function hostMain(argv: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...argv],
    // --keychain (desktop): credentials sealed by Electron main's safeStorage instead of a clear file.
    // --http-port / --http-access (desktop): the plain API routes on 127.0.0.1 for other programs,
    // with the token kept in that file (owner-only) for them to read.
    options: {
      db: { type: 'string' },
      templates: { type: 'string' },
      keychain: { type: 'boolean' },
      'http-port': { type: 'string' },
      'http-access': { type: 'string' },
    },
    strict: true,
  });
  if (values.db === undefined || values.templates === undefined)
    throw new Error('usage: host --db PATH --templates DIR');
  const parentPort = (process as { parentPort?: ParentPortLike }).parentPort;
  const toParent = (message: HostToParent): void => {
    if (parentPort) parentPort.postMessage(message);
    else process.send?.(message);
  };

  let engine: Engine;
  try {
    const credentials =
      values.keychain && parentPort ? await openKeychainCredentials(values.db, parentPort) : undefined;
    engine = Engine.open({ dbPath: values.db, ...(credentials && { credentials }) });
  } catch (error) {
    // A database that cannot be opened will not open on a restart either: say why and stop.
    toParent({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    return;
  }

  const ports = new Set<PortLike>();
  const broadcast = (frame: ServerFrame): void => {
    if (parentPort) for (const port of ports) port.postMessage(frame);
    else toParent({ type: 'frame', client: null, frame });
  };
  const emit = <E extends EventName>(event: E, data: EventData<E>): void => broadcast({ t: 'evt', event, data });
  const mockService = new MockServiceHost(values.db);
  const service = new EngineService({
    engine,
    dbPath: values.db,
    templatesDir: values.templates,
    mockService,
    emit,
  });
  // Workflows made from templates earlier call the mock service: it runs whenever they may.
  mockService.resume().catch((error: unknown) => {
    process.stderr.write(`stepwise: the built-in mock service could not start: ${String(error)}\n`);
  });
  // A worker that cannot register (the file locked for too long) is a host that cannot do its
  // job: stop, so that the supervisor starts a new one.
  const worker = engine.startWorker();
  worker.started.catch((error: unknown) => {
    process.stderr.write(`stepwise: the engine host could not start its worker: ${String(error)}\n`);
    process.exit(1);
  });
  // Timers that came due while nothing ran fire in the worker's first cycles: say which were late
  // (stderr reaches `stepwise serve`'s terminal, or the desktop app's log).
  void worker.lateTimers.swept.then(() => {
    for (const timer of worker.lateTimers.list) process.stderr.write(`stepwise: ${lateTimerLine(timer)}\n`);
  });
  // Every client hears of every run change, also those made by other processes.
  const stopWatching = engine.watchRuns((runs) => emit('runsChanged', { runs }));
  const port = values['http-port'];
  const access = values['http-access'];
  if (port !== undefined && access !== undefined) await serveLocalApi(service, Number(port), access);

  let stopping = false;
  const shutdown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    stopWatching();
    await mockService.close();
    await engine.close();
    process.exit(0);
  };
  if (parentPort) {
    parentPort.on('message', ({ ports: [port] }) => {
      if (!port) return;
      ports.add(port);
      port.on(
        'message',
        ({ data }) => void dispatch(service, data).then((frame) => reply(frame, (out) => port.postMessage(out))),
      );
      port.on('close', () => ports.delete(port));
      port.start();
    });
  } else {
    process.on('message', (message: ParentToHost) => {
      if (message.type !== 'frame') return;
      void dispatch(service, message.frame).then((frame) =>
        reply(frame, (out) => toParent({ type: 'frame', client: message.client, frame: out })),
      );
    });
    // The supervisor going away (even by SIGKILL) closes the IPC channel: stop with it.
    process.on('disconnect', () => void shutdown());
  }

  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  toParent({ type: 'ready', pid: process.pid });
}

/**
 * The desktop app's plain API (decisions, signals, webhooks) on 127.0.0.1. Its URL and token go
 * to `accessFile` (owner-only); the token is kept across restarts so scripts keep working. A port
 * in use is reported, not fatal: the app works without it.
 */
async function serveLocalApi(service: EngineService, port: number, accessFile: string): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`stepwise: ${line}\n`);
  const token = storedToken(accessFile) ?? randomBytes(24).toString('base64url');
  try {
    const local = await listenLocalApi({ api: service, port, token, log });
    const temporary = `${accessFile}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ url: local.url, token }, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, accessFile);
    log(`the API for other programs listens on ${local.url} (its token is in ${accessFile})`);
  } catch (error) {
    log(`the API for other programs is off: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function storedToken(accessFile: string): string | null {
  try {
    const { token } = JSON.parse(readFileSync(accessFile, 'utf8')) as { token?: unknown };
    return typeof token === 'string' && /^[A-Za-z0-9_-]{32,}$/.test(token) ? token : null;
  } catch {
    return null;
  }
}
