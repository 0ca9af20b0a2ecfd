// The request itself: redirects followed by hand (so that credentials never follow one to another
// origin) and the response body read while it streams, up to a limit.
import { TerminalError } from '../../engine/sdk/index.js';
import { readCapped } from '../read-capped.js';
import { describeUrl } from './headers.js';

export interface Hop {
  method: string;
  url: URL;
  headers: Headers;
  body: string | undefined;
}

export interface RedirectPolicy {
  maxRedirects: number;
  crossOriginRedirects: 'strip' | 'refuse';
  /** Headers the request has beyond what fetch adds itself: dropped when the origin changes. */
  contentType: string | null;
}

/**
 * Sends the request and follows redirects. On a move to another origin every header the request
 * set (credentials, custom headers, the Idempotency-Key) is dropped, or the move refused.
 */
export async function fetchFollowing(first: Hop, policy: RedirectPolicy, signal: AbortSignal): Promise<Response> {
  let hop = first;
  for (let redirects = 0; ; redirects += 1) {
    const response = await fetch(hop.url, {
      method: hop.method,
      headers: hop.headers,
      body: hop.body,
      signal,
      redirect: 'manual',
    });
    const location = response.headers.get('location');
    if (!isRedirect(response.status) || location === null) return response;
    await response.body?.cancel();
    if (redirects >= policy.maxRedirects)
      throw new TerminalError(
        `${first.method} ${describeUrl(first.url)} was redirected more than ${policy.maxRedirects} times (maxRedirects)`,
        'http.redirects',
      );
    const next = new URL(location, hop.url);
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new TerminalError(
        `${first.method} ${describeUrl(first.url)} was redirected to a ${next.protocol} URL`,
        'http.redirect',
      );
    if (next.username !== '' || next.password !== '')
      throw new TerminalError(
        `${first.method} ${describeUrl(first.url)} was redirected to a URL with user info, which is never followed`,
        'http.redirect',
      );
    hop = nextHop(hop, response.status, next, policy, first);
  }
}

function isRedirect(status: number): boolean {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

function nextHop(hop: Hop, status: number, url: URL, policy: RedirectPolicy, first: Hop): Hop {
  // As fetch does: 303 (and 301/302 after a POST) turn into a GET without a body.
  const toGet =
    (status === 303 && hop.method !== 'HEAD') || ((status === 301 || status === 302) && hop.method === 'POST');
  const method = toGet ? 'GET' : hop.method;
  const body = toGet ? undefined : hop.body;
  if (url.origin === hop.url.origin) {
    const headers = new Headers(hop.headers);
    if (toGet) headers.delete('content-type');
    return { method, url, headers, body };
  }
  if (policy.crossOriginRedirects === 'refuse')
    throw new TerminalError(
      `${first.method} ${describeUrl(first.url)} was redirected to another origin (${url.origin}), which this node refuses ` +
        '(crossOriginRedirects: "refuse")',
      'http.redirect',
    );
  // Another origin gets nothing this request set but the body's type: no credential, no custom
  // header, no Idempotency-Key (it identifies the effect at the first origin only).
  const headers = new Headers();
  if (body !== undefined && policy.contentType !== null) headers.set('content-type', policy.contentType);
  return { method, url, headers, body };
}

/** The body as text, read as it streams; past `maxBytes` the transfer is cut off and the node fails. */
export function readBodyCapped(response: Response, maxBytes: number, what: string): Promise<string> {
  return readCapped(
    response,
    maxBytes,
    () =>
      new TerminalError(
        `${what}: the response body is larger than ${maxBytes} bytes (maxBodyBytes); ` +
          'raise maxBodyBytes in the node config if this response is expected',
        'http.body-too-large',
      ),
  );
}
