// POST /api/hooks/<workflowId>/<path> over real HTTP on 127.0.0.1 against `stepwise serve` (a real
// engine host child process, a real SQLite file, the real credentials file): a call with the token
// or with a valid HMAC signature of its body starts a run of the latest version from the trigger
// with that path; a bad signature is 401; an unknown path 404; the secret never shows.
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatWorkflowFile } from '../../engine/api/index.js';
import { edge, node, until, workflow } from '../support/harness.js';
import { postJson, servedApi } from '../support/http-api.js';

const SECRET = 'whsec-4f1c7e0b9a2d6e3f';
const logs: string[] = [];
const served = servedApi(
  'stepwise-webhook-',
  async (client) => {
    // Signed calls on "orders/paid"; the token only on "open". A manual trigger too: a webhook run
    // must start from its own trigger, not the manual one.
    const graph = workflow(
      'shop',
      [
        node('manual', 'trigger.manual'),
        node('hook', 'trigger.webhook', { path: 'orders/paid', secret: 'SHOP_HOOK' }),
        node('open', 'trigger.webhook', { path: 'open' }),
        node('tag', 'code', { code: 'return { via: "manual" };' }),
        node('end', 'output'),
        node('openEnd', 'output'),
        node('manualEnd', 'output'),
      ],
      [edge('hook', 'end'), edge('open', 'openEnd'), edge('manual', 'tag'), edge('tag', 'manualEnd')],
    );
    await client.api.importWorkflow({ text: formatWorkflowFile(graph) });
    await client.api.setCredential({ name: 'SHOP_HOOK', value: SECRET });
  },
  { log: (line) => logs.push(line) },
);
const { dir } = served;
const app = {
  get token() {
    return served.app.token;
  },
};
/** Without the token unless the headers carry it. */
const post = (path: string, text: string, headers: Record<string, string> = {}) =>
  postJson({ port: served.app.port, token: null }, path, text, headers);

function sign(text: string, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(text).digest('hex')}`;
}

async function output(runId: string): Promise<unknown> {
  await until(async () => (await served.client.api.getRun({ runId })).status === 'completed', `${runId} completed`);
  return (await served.client.api.getRun({ runId })).output;
}

describe('POST /api/hooks/<workflowId>/<path>', () => {
  it('with the token: 202 {runId}; the run gets { body, headers, query } without the credentials', async () => {
    const text = JSON.stringify({ order: 42, total: 9.5 });
    const answer = await post(`/api/hooks/shop/open?token=${app.token}&source=shop&tag=a&tag=b`, text, {
      cookie: 'session=abc',
      'x-request-id': 'req-1',
    });
    expect(answer.status).toBe(202);
    expect(Object.keys(answer.body)).toEqual(['runId']);
    const runId = String(answer.body.runId);
    const run = (await output(runId)) as { body: unknown; headers: Record<string, string>; query: unknown };
    expect(run.body).toEqual({ order: 42, total: 9.5 });
    expect(run.query).toEqual({ source: 'shop', tag: ['a', 'b'] });
    expect(run.headers['x-request-id']).toBe('req-1');
    expect(run.headers['content-type']).toBe('application/json');
    expect(run.headers).not.toHaveProperty('cookie');
    expect(run.headers).not.toHaveProperty('authorization');
    expect(JSON.stringify(run)).not.toContain(app.token);
    const detail = await served.client.api.getRun({ runId });
    const ran = detail.activations.filter((activation) => activation.status === 'completed');
    expect(ran.map((activation) => activation.nodeId).sort()).toEqual(['open', 'openEnd']);

    // The bearer token works as well, also on a trigger that has a secret; a non-JSON body is text.
    const bearer = await post('/api/hooks/shop/orders/paid', 'plain words', {
      authorization: `Bearer ${app.token}`,
      'content-type': 'text/plain',
    });
    expect(bearer.status).toBe(202);
    const plain = (await output(String(bearer.body.runId))) as { body: unknown; headers: Record<string, string> };
    expect(plain.body).toBe('plain words');
    expect(plain.headers).not.toHaveProperty('authorization');
  });

  it('with a valid HMAC signature of the body and no token: 202; a bad signature 401', async () => {
    const text = JSON.stringify({ order: 7 });
    const signed = await post('/api/hooks/shop/orders/paid', text, { 'x-stepwise-signature': sign(text) });
    expect(signed.status).toBe(202);
    const run = (await output(String(signed.body.runId))) as { body: unknown; headers: Record<string, string> };
    expect(run.body).toEqual({ order: 7 });
    expect(run.headers).not.toHaveProperty('x-stepwise-signature');

    const before = (await served.client.api.listRuns({ workflowId: 'shop' })).runs.length;
    const refusals = [
      await post('/api/hooks/shop/orders/paid', text, { 'x-stepwise-signature': sign(text, 'wrong-secret') }),
      // A signature of another body.
      await post('/api/hooks/shop/orders/paid', text, { 'x-stepwise-signature': sign('{"order":8}') }),
      await post('/api/hooks/shop/orders/paid', text, { 'x-stepwise-signature': 'sha256=zz' }),
      // No token and no signature.
      await post('/api/hooks/shop/orders/paid', text),
      // A trigger without a secret takes no signature.
      await post('/api/hooks/shop/open', text, { 'x-stepwise-signature': sign(text) }),
      // Without the token, an unknown path is not told apart from a bad signature.
      await post('/api/hooks/shop/nowhere', text, { 'x-stepwise-signature': sign(text) }),
    ];
    expect(refusals.map((answer) => answer.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect((await served.client.api.listRuns({ workflowId: 'shop' })).runs.length).toBe(before);

    // The secret is in no answer, log line, run input or journal.
    const journal = await served.client.api.getRunEvents({ runId: String(signed.body.runId) });
    for (const text of [JSON.stringify(refusals), logs.join('\n'), JSON.stringify(journal)])
      expect(text).not.toContain(SECRET);
    expect(readFileSync(dir.db).includes(SECRET)).toBe(false);
  });

  it('404 when the workflow has no webhook trigger with that path; 400 for a body that is not JSON', async () => {
    const auth = { authorization: `Bearer ${app.token}` };
    const unknownPath = await post('/api/hooks/shop/orders/refunded', '{}', auth);
    expect(unknownPath.status).toBe(404);
    expect(unknownPath.body.error).toMatch(/no webhook trigger with the path "orders\/refunded"/);
    expect((await post('/api/hooks/no-such-workflow/open', '{}', auth)).status).toBe(404);
    expect((await post('/api/hooks/shop/open', '{oops', auth)).status).toBe(400);
    expect((await post('/api/hooks/shop/open', 'x'.repeat(2 * 1024 * 1024), auth)).status).toBe(413);
    expect((await post('/api/hooks/shop/open', '{}', { ...auth, origin: 'http://evil.example' })).status).toBe(403);
  });

  it('runs the latest version: a path moved in a new version is found there, and gone from the old place', async () => {
    const { draft } = await served.client.api.getWorkflow({ workflowId: 'shop' });
    const moved = {
      ...draft,
      nodes: draft.nodes.map((item) => (item.id === 'open' ? { ...item, config: { path: 'open-v2' } } : item)),
    };
    await served.client.api.saveDraft({ workflowId: 'shop', draft: moved });
    await served.client.api.saveVersion({ workflowId: 'shop' });
    const auth = { authorization: `Bearer ${app.token}` };
    expect((await post('/api/hooks/shop/open', '{}', auth)).status).toBe(404);
    const answer = await post('/api/hooks/shop/open-v2', '{"v":2}', auth);
    expect(answer.status).toBe(202);
    const run = await served.client.api.getRun({ runId: String(answer.body.runId) });
    expect(run.version).toBe(2);
  });
});
