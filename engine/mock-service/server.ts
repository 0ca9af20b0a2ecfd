// The built-in mock service: one HTTP server on 127.0.0.1 that stands in for what the templates
// call — a language model (OpenAI, Anthropic and Ollama wire formats), payments, a CRM,
// provisioning, email, document extraction, search, a credit bureau, a records store and loan
// funding. It is labelled as a mock in every answer (`x-stepwise-mock` header, `/` says so), keeps
// its state in memory, and honours `Idempotency-Key` like the real services it imitates: the same
// key gets the same answer and changes nothing twice.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens, fakeText, fakeValue } from './model.js';

export const MOCK_SERVICE_NAME = 'stepwise-mock';
/** Where templates point; the app rewrites it when the service had to take another port. */
export const MOCK_SERVICE_DEFAULT_ORIGIN = 'http://127.0.0.1:7476';
export const MOCK_SERVICE_DEFAULT_PORT = 7476;
const NOTICE =
  'Built-in mock service for Stepwise templates. Not a real provider: answers are made up, nothing is charged or sent.';
/** Request bodies past this are refused: the mock has no reason to read more. */
const MAX_BODY_BYTES = 1024 * 1024;
const REQUEST_LOG_SIZE = 500;

export interface MockServiceCall {
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  at: number;
}

export interface MockService {
  /** e.g. http://127.0.0.1:7476 */
  origin: string;
  port: number;
  /** The latest calls, oldest first (also `GET /_calls`). */
  calls: MockServiceCall[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
interface Answer {
  status: number;
  body: unknown;
}
type Handler = (request: { body: Json; query: URLSearchParams; params: string[]; key: string | null }) => Answer;

const ENDPOINTS = [
  'POST /v1/chat/completions (OpenAI)',
  'POST /v1/messages (Anthropic)',
  'POST /api/chat (Ollama)',
  'POST /payments/charges',
  'POST /payments/refunds',
  'POST /crm/customers',
  'DELETE /crm/customers/:id',
  'POST /provisioning/workspaces',
  'DELETE /provisioning/workspaces/:id',
  'POST /email/messages',
  'POST /documents/extract',
  'GET /search?q=',
  'POST /credit/checks',
  'POST /records',
  'POST /loans/fund',
];

const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const amountOf = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

/** A deterministic id: from the idempotency key when there is one, else from a counter. */
function idMaker(): (prefix: string, key: string | null, salt?: string) => string {
  let counter = 0;
  return (prefix, key, salt = '') => {
    counter += 1;
    const seed = key === null ? `${prefix}:${counter}:${Date.now()}` : `${prefix}:${key}:${salt}`;
    return `${prefix}_${createHash('sha256').update(seed).digest('hex').slice(0, 14)}`;
  };
}

function lastUserText(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  const texts = messages.map((message: unknown) => {
    const entry = message as { role?: unknown; content?: unknown };
    if (typeof entry.content === 'string') return { role: entry.role, text: entry.content };
    if (Array.isArray(entry.content))
      return {
        role: entry.role,
        text: entry.content.map((part: unknown) => text((part as { text?: unknown }).text)).join(''),
      };
    return { role: entry.role, text: '' };
  });
  return texts.filter((entry) => entry.role === 'user').at(-1)?.text ?? '';
}

function systemText(body: Json): string {
  if (typeof body.system === 'string') return body.system;
  if (!Array.isArray(body.messages)) return '';
  return body.messages
    .map((message: unknown) => message as { role?: unknown; content?: unknown })
    .filter((message) => message.role === 'system')
    .map((message) => text(message.content))
    .join('\n');
}

/** The model's answer: a value of the requested schema, or a labelled summary. */
function modelAnswer(body: Json, schema: unknown): { content: string; input: number; output: number } {
  const model = text(body.model) || 'mock';
  const prompt = lastUserText(body.messages);
  const system = systemText(body);
  const content =
    schema === undefined
      ? fakeText(prompt, model)
      : // The request alone: instructions in the system prompt ("fraud is not refundable") are not facts.
        JSON.stringify(fakeValue(schema, 'answer', prompt));
  return { content, input: countTokens(system) + countTokens(prompt) + 3, output: countTokens(content) };
}

function openaiSchema(body: Json): unknown {
  const format = body.response_format as { type?: unknown; json_schema?: { schema?: unknown } } | undefined;
  return format?.type === 'json_schema' ? (format.json_schema?.schema ?? {}) : undefined;
}

function routes(id: ReturnType<typeof idMaker>): [method: string, pattern: RegExp, handler: Handler][] {
  const customers = new Map<string, Json>();
  const workspaces = new Map<string, Json>();
  const charges = new Map<string, Json>();
  return [
    [
      'POST',
      /^\/v1\/chat\/completions$/,
      ({ body }) => {
        const answer = modelAnswer(body, openaiSchema(body));
        return {
          status: 200,
          body: {
            id: id('chatcmpl', null),
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: text(body.model),
            choices: [{ index: 0, message: { role: 'assistant', content: answer.content }, finish_reason: 'stop' }],
            usage: {
              prompt_tokens: answer.input,
              completion_tokens: answer.output,
              total_tokens: answer.input + answer.output,
            },
          },
        };
      },
    ],
    [
      'POST',
      /^\/v1\/messages$/,
      ({ body }) => {
        const answer = modelAnswer(body, undefined);
        return {
          status: 200,
          body: {
            id: id('msg', null),
            type: 'message',
            role: 'assistant',
            model: text(body.model),
            content: [{ type: 'text', text: answer.content }],
            stop_reason: 'end_turn',
            usage: { input_tokens: answer.input, output_tokens: answer.output },
          },
        };
      },
    ],
    [
      'POST',
      /^\/api\/chat$/,
      ({ body }) => {
        const format = body.format;
        const answer = modelAnswer(body, typeof format === 'object' && format !== null ? format : undefined);
        return {
          status: 200,
          body: {
            model: text(body.model),
            created_at: new Date().toISOString(),
            message: { role: 'assistant', content: answer.content },
            done: true,
            prompt_eval_count: answer.input,
            eval_count: answer.output,
          },
        };
      },
    ],
    [
      'POST',
      /^\/payments\/charges$/,
      ({ body, key }) => {
        const amount = amountOf(body.amount);
        if (amount <= 0) return { status: 400, body: { error: 'amount must be a positive number' } };
        if (amount > 10_000) return { status: 402, body: { error: 'card_declined', message: 'over the mock limit' } };
        const charge = {
          id: id('ch', key),
          amount,
          currency: text(body.currency) || 'usd',
          customerId: body.customerId ?? null,
          status: 'succeeded',
          refunded: false,
        };
        charges.set(charge.id, charge);
        return { status: 201, body: charge };
      },
    ],
    [
      'POST',
      /^\/payments\/refunds$/,
      ({ body, key }) => {
        const charge = charges.get(text(body.chargeId));
        if (charge) charge.refunded = true;
        return {
          status: 201,
          body: {
            id: id('re', key),
            chargeId: body.chargeId ?? null,
            orderId: body.orderId ?? null,
            amount: amountOf(body.amount) || amountOf(charge?.amount),
            status: 'succeeded',
          },
        };
      },
    ],
    [
      'POST',
      /^\/crm\/customers$/,
      ({ body, key }) => {
        if (text(body.email) === '') return { status: 400, body: { error: 'email is required' } };
        const customer = { id: id('cus', key), email: body.email, name: body.name ?? null, deleted: false };
        customers.set(customer.id, customer);
        return { status: 201, body: customer };
      },
    ],
    [
      'DELETE',
      /^\/crm\/customers\/([^/]+)$/,
      ({ params: [customerId = ''] }) => {
        const customer = customers.get(customerId);
        if (customer) customer.deleted = true;
        return { status: 200, body: { id: customerId, deleted: true } };
      },
    ],
    [
      'POST',
      /^\/provisioning\/workspaces$/,
      ({ body, key }) => {
        // A plan named "fail" cannot be provisioned: the way a template shows its compensations.
        if (text(body.plan) === 'fail')
          return {
            status: 422,
            body: { error: 'provisioning failed', message: 'the plan "fail" cannot be provisioned' },
          };
        const workspace = { id: id('ws', key), customerId: body.customerId ?? null, plan: body.plan ?? 'starter' };
        workspaces.set(workspace.id, workspace);
        return { status: 201, body: workspace };
      },
    ],
    [
      'DELETE',
      /^\/provisioning\/workspaces\/([^/]+)$/,
      ({ params: [workspaceId = ''] }) => {
        workspaces.delete(workspaceId);
        return { status: 200, body: { id: workspaceId, deleted: true } };
      },
    ],
    [
      'POST',
      /^\/email\/messages$/,
      ({ body, key }) => ({
        status: 202,
        body: { id: id('em', key), to: body.to ?? null, subject: body.subject ?? null, queued: true },
      }),
    ],
    [
      'POST',
      /^\/documents\/extract$/,
      ({ body }) => {
        const title = text(body.title) || text(body.documentUrl) || 'document';
        const pages = [
          `Invoice ${title}. Vendor: Acme Supplies Ltd. Invoice number: INV-2041. Issued 2026-01-15.`,
          'Line items: 12 office chairs at 180.00; 4 standing desks at 540.00. Subtotal 4320.00.',
          'Tax 864.00. Total due 5184.00 by 2026-02-14. Payment terms: net 30. Signature: (handwritten, smudged).',
        ];
        return { status: 200, body: { title, pages: pages.length, text: pages.join('\n\n') } };
      },
    ],
    [
      'GET',
      /^\/search$/,
      ({ query }) => {
        const q = query.get('q') ?? '';
        return {
          status: 200,
          body: {
            query: q,
            results: [1, 2, 3].map((rank) => ({
              rank,
              title: `${q} — mock source ${rank}`,
              url: `https://example.com/mock/${encodeURIComponent(q.toLowerCase().replace(/\s+/g, '-'))}/${rank}`,
              snippet: `Made-up finding ${rank} about ${q}, from the Stepwise mock search.`,
            })),
          },
        };
      },
    ],
    [
      'POST',
      /^\/credit\/checks$/,
      ({ body, key }) => {
        const applicant = JSON.stringify(body.applicant ?? body);
        const score = 620 + (parseInt(createHash('sha256').update(applicant).digest('hex').slice(0, 4), 16) % 180);
        return { status: 200, body: { id: id('cc', key), score, bureau: 'Mock Bureau' } };
      },
    ],
    ['POST', /^\/records$/, ({ body, key }) => ({ status: 201, body: { id: id('rec', key), stored: body } })],
    [
      'POST',
      /^\/loans\/fund$/,
      ({ body, key }) => ({
        status: 201,
        body: { id: id('loan', key), amount: amountOf(body.amount), rate: body.rate ?? null, status: 'funded' },
      }),
    ],
  ];
}

function readBody(request: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, answer: Answer, replayed = false): void {
  response.writeHead(answer.status, {
    'content-type': 'application/json',
    'x-stepwise-mock': 'true',
    ...(replayed && { 'idempotent-replayed': 'true' }),
  });
  response.end(JSON.stringify(answer.body));
}

/** Starts the service on 127.0.0.1:`port` (0: any free port). Rejects when the port is taken. */
export async function startMockService(port: number = MOCK_SERVICE_DEFAULT_PORT): Promise<MockService> {
  const table = routes(idMaker());
  const replies = new Map<string, Answer>();
  const calls: MockServiceCall[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const key = typeof request.headers['idempotency-key'] === 'string' ? request.headers['idempotency-key'] : null;
    const answer = async (): Promise<{ answer: Answer; replayed: boolean }> => {
      if (method === 'GET' && (url.pathname === '/' || url.pathname === '/health'))
        return {
          answer: { status: 200, body: { service: MOCK_SERVICE_NAME, notice: NOTICE, endpoints: ENDPOINTS } },
          replayed: false,
        };
      if (method === 'GET' && url.pathname === '/_calls')
        return { answer: { status: 200, body: calls }, replayed: false };
      const route = table.find(([routeMethod, pattern]) => routeMethod === method && pattern.test(url.pathname));
      if (!route)
        return {
          answer: { status: 404, body: { error: `no mock endpoint ${method} ${url.pathname}`, endpoints: ENDPOINTS } },
          replayed: false,
        };
      const raw = method === 'GET' || method === 'DELETE' ? '' : await readBody(request);
      if (raw === null) return { answer: { status: 413, body: { error: 'request body too large' } }, replayed: false };
      let body: Json = {};
      if (raw.trim() !== '') {
        try {
          const parsed = JSON.parse(raw) as unknown;
          body =
            typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
              ? (parsed as Json)
              : { value: parsed };
        } catch {
          return { answer: { status: 400, body: { error: 'the body is not JSON' } }, replayed: false };
        }
      }
      const replyKey = key === null ? null : `${method} ${url.pathname} ${key}`;
      const earlier = replyKey === null ? undefined : replies.get(replyKey);
      if (earlier) return { answer: earlier, replayed: true };
      const [, pattern, handler] = route;
      const params = pattern.exec(url.pathname)?.slice(1).map(decodeURIComponent) ?? [];
      const fresh = handler({ body, query: url.searchParams, params, key });
      // Like the services it imitates: a success is remembered per key, an error is not.
      if (replyKey !== null && fresh.status < 400) replies.set(replyKey, fresh);
      return { answer: fresh, replayed: false };
    };
    const { answer: reply, replayed } = await answer();
    if (url.pathname !== '/_calls') {
      calls.push({ method, path: url.pathname, idempotencyKey: key, status: reply.status, at: Date.now() });
      if (calls.length > REQUEST_LOG_SIZE) calls.splice(0, calls.length - REQUEST_LOG_SIZE);
    }
    send(response, reply, replayed);
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, { status: 500, body: { error: String(error) } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
