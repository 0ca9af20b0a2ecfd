// The EngineApi transport: the client and the host-side dispatcher over an in-memory connection.
import { afterAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  dispatch,
  EngineClient,
  type Connection,
  type EngineApi,
  type RequestFrame,
  type ServerFrame,
} from '../../engine/api/index.js';
import { EngineService } from '../../engine/host/service.js';
import { Engine } from '../../engine/runtime/engine.js';
import { tempDir } from '../support/harness.js';

type Handlers = Parameters<Connection['start']>[0];

/** A connection whose far end is a function; open/close and raw frames are driven by the test. */
class TestConnection implements Connection {
  handlers: Handlers | undefined;
  sent: RequestFrame[] = [];
  constructor(private readonly host: (frame: RequestFrame) => Promise<ServerFrame | null> | ServerFrame | null) {}
  start(handlers: Handlers) {
    this.handlers = handlers;
  }
  send(frame: RequestFrame) {
    this.sent.push(frame);
    // Through JSON, as on the wire.
    void Promise.resolve(this.host(JSON.parse(JSON.stringify(frame)) as RequestFrame)).then((reply) => {
      if (reply) this.handlers?.frame(JSON.stringify(reply));
    });
  }
  stop() {}
}

const dir = tempDir('stepwise-api-');
const engine = Engine.open({ dbPath: dir.db });
const events: unknown[] = [];
const service = new EngineService({
  engine,
  dbPath: dir.db,
  templatesDir: dir.path,
  emit: (event, data) => events.push({ event, data }),
});
afterAll(async () => {
  await engine.close();
  dir.cleanup();
});

function connected(
  host: (frame: RequestFrame) => Promise<ServerFrame | null> | ServerFrame | null = (frame) => dispatch(service, frame),
) {
  const connection = new TestConnection(host);
  const errors: string[] = [];
  const client = new EngineClient(connection, { onProtocolError: (message) => errors.push(message) });
  connection.handlers?.open();
  return { client, connection, errors };
}

describe('EngineApi over a connection', () => {
  it('round-trips typed calls to the real service and the database', async () => {
    const { client } = connected();
    const created = await client.api.createWorkflow({ name: 'Refund approval' });
    expect(created.id).toMatch(/^refund-approval-[0-9a-f]{6}$/);
    expect(created.draft.nodes.map((node) => node.type)).toEqual(['trigger.manual']);
    const fetched = await client.api.getWorkflow({ workflowId: created.id });
    expect(fetched.draft).toEqual(created.draft);
    expect(events).toContainEqual({ event: 'workflowsChanged', data: { workflowId: created.id } });
  });

  it('the host refuses invalid params, naming the field, and unknown methods', async () => {
    const { client } = connected();
    const wrong = client.call('getWorkflow', { workflowId: 42 } as unknown as { workflowId: string });
    await expect(wrong).rejects.toMatchObject({
      code: 'bad-request',
      message: expect.stringMatching(/getWorkflow: invalid params: workflowId/),
    });
    const unknown = await dispatch(service, { t: 'req', id: 7, method: 'dropTables', params: {} });
    expect(unknown).toMatchObject({
      id: 7,
      ok: false,
      error: { code: 'bad-request', message: 'unknown method "dropTables"' },
    });
    expect(await dispatch(service, 'not json')).toBeNull();
    expect(await dispatch(service, { t: 'req', id: 3 })).toMatchObject({
      id: 3,
      ok: false,
      error: { code: 'bad-request' },
    });
  });

  it('maps engine errors: not found, and an invalid draft with its problems', async () => {
    const { client } = connected();
    await expect(client.api.getWorkflow({ workflowId: 'nope' })).rejects.toMatchObject({ code: 'not-found' });
    const created = await client.api.createWorkflow({ name: 'Broken' });
    const draft = {
      ...created.draft,
      nodes: [...created.draft.nodes, { id: 'c', type: 'code', typeVersion: 1, position: { x: 0, y: 0 }, config: {} }],
    };
    await client.api.saveDraft({ workflowId: created.id, draft });
    const error = await client.api.saveVersion({ workflowId: created.id }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('invalid');
    expect((error as ApiError).problems).toContainEqual(
      expect.objectContaining({ nodeId: 'c', code: 'node.config', field: 'code' }),
    );
  });

  it('the client refuses a malformed result and ignores malformed frames and events', async () => {
    const { client, connection, errors } = connected((frame) => ({
      t: 'res',
      id: frame.id,
      ok: true,
      result: { nope: true },
    }));
    await expect(client.api.listWorkflows({})).rejects.toMatchObject({
      code: 'internal',
      message: expect.stringMatching(/the engine answered listWorkflows/),
    });
    connection.handlers?.frame('{oops');
    connection.handlers?.frame(JSON.stringify({ t: 'evt', event: 'workflowsChanged', data: { workflowId: 5 } }));
    connection.handlers?.frame(JSON.stringify({ t: 'evt', event: 'somethingElse', data: {} }));
    const seen: unknown[] = [];
    client.on('workflowsChanged', (data) => seen.push(data));
    connection.handlers?.frame(JSON.stringify({ t: 'evt', event: 'workflowsChanged', data: { workflowId: 'w' } }));
    expect(seen).toEqual([{ workflowId: 'w' }]);
    expect(errors).toHaveLength(3);
  });

  it('queues calls while disconnected, sends them on open, and fails calls in flight when the connection drops', async () => {
    let answer: ((frame: ServerFrame) => void) | undefined;
    const connection = new TestConnection(
      (frame) =>
        new Promise<ServerFrame>((resolve) => {
          answer = resolve;
          void frame;
        }),
    );
    const client = new EngineClient(connection);
    const statuses: string[] = [];
    client.onStatus((status) => statuses.push(status));
    const queued = client.api.listWorkflows({});
    expect(connection.sent).toHaveLength(0);
    connection.handlers?.open();
    expect(connection.sent.map((frame) => frame.method)).toEqual(['listWorkflows']);
    connection.handlers?.close();
    await expect(queued).rejects.toMatchObject({ code: 'unavailable' });
    expect(answer).toBeDefined();

    // While the engine host restarts, calls wait; once it is ready they go out.
    connection.handlers?.open();
    connection.handlers?.frame(JSON.stringify({ t: 'host', state: 'restarting' }));
    const waiting = client.api.listTemplates({});
    expect(connection.sent).toHaveLength(1);
    connection.handlers?.frame(JSON.stringify({ t: 'host', state: 'ready' }));
    expect(connection.sent.map((frame) => frame.method)).toEqual(['listWorkflows', 'listTemplates']);
    answer?.({ t: 'res', id: connection.sent[1]?.id ?? -1, ok: true, result: [] });
    await expect(waiting).resolves.toEqual([]);
    expect(statuses).toEqual(['ready', 'reconnecting', 'ready', 'reconnecting', 'ready']);
  });

  it('every EngineApi method of the service is reachable by name', () => {
    const api: EngineApi = service;
    const { client } = connected();
    expect(Object.keys(client.api).sort()).toEqual(
      Object.getOwnPropertyNames(Object.getPrototypeOf(api))
        .filter((name) => name !== 'constructor')
        .sort(),
    );
  });
});

describe('importing over a workflow', () => {
  it('adds a version when the draft has no unsaved edits; becomes a new workflow when it has', async () => {
    const { client } = connected();
    const text = await client.api
      .createWorkflow({ name: 'Imported twice' })
      .then((created) => client.api.exportWorkflow({ workflowId: created.id }));
    const first = await client.api.importWorkflow({ text: text.text });
    expect(first.version).toBe(1);
    const again = await client.api.importWorkflow({ text: text.text });
    expect([again.workflow.id, again.version]).toEqual([first.workflow.id, 1]);

    const edited = { ...first.workflow.draft, name: 'Edited, not saved' };
    await client.api.saveDraft({ workflowId: first.workflow.id, draft: edited });
    const third = await client.api.importWorkflow({ text: text.text });
    expect(third.workflow.id).not.toBe(first.workflow.id);
    expect((await client.api.getWorkflow({ workflowId: first.workflow.id })).draft.name).toBe('Edited, not saved');
  });
});
