// When the engine host runs the built-in mock service: from the moment a workflow is made from a
// template that calls it, and at every later start (a file beside the database remembers it and
// the port taken, so the workflows made earlier keep reaching it). `STEPWISE_MOCK_PORT` chooses
// the port (0: any free one); when the default port is taken, any free port is used and the
// templates made from then on are pointed there.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MOCK_SERVICE_DEFAULT_PORT, startMockService, type MockService } from '../mock-service/server.js';

const STATE_FILE = 'mock-service.json';

export class MockServiceHost {
  readonly #stateFile: string;
  readonly #port: number;
  #service: Promise<MockService> | null = null;

  constructor(dbPath: string, env: NodeJS.ProcessEnv = process.env) {
    this.#stateFile = join(dirname(dbPath), STATE_FILE);
    const configured = env.STEPWISE_MOCK_PORT;
    const port = configured === undefined || configured === '' ? MOCK_SERVICE_DEFAULT_PORT : Number(configured);
    this.#port = Number.isInteger(port) && port >= 0 && port < 65536 ? port : MOCK_SERVICE_DEFAULT_PORT;
  }

  /** Starts the service when a template made earlier needs it; its origin, or null. */
  async resume(): Promise<string | null> {
    if (!existsSync(this.#stateFile)) return null;
    return this.origin();
  }

  /** The running service's origin, starting it (and remembering that) first if needed. */
  origin(): Promise<string> {
    this.#service ??= this.#start().catch((error: unknown) => {
      this.#service = null;
      throw error;
    });
    return this.#service.then((service) => service.origin);
  }

  async close(): Promise<void> {
    const service = await this.#service?.catch(() => null);
    await service?.close();
  }

  async #start(): Promise<MockService> {
    const preferred = this.#savedPort() ?? this.#port;
    let service: MockService;
    try {
      service = await startMockService(preferred);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || preferred === 0) throw error;
      service = await startMockService(0);
    }
    writeFileSync(this.#stateFile, `${JSON.stringify({ port: service.port }, null, 2)}\n`, { mode: 0o600 });
    process.stderr.write(`stepwise: the built-in mock service (not a real provider) listens on ${service.origin}\n`);
    return service;
  }

  #savedPort(): number | null {
    try {
      const saved = JSON.parse(readFileSync(this.#stateFile, 'utf8')) as { port?: unknown };
      return typeof saved.port === 'number' && Number.isInteger(saved.port) ? saved.port : null;
    } catch {
      return null;
    }
  }
}
