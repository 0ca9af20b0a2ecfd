// Which headers carry secrets: literal ones are refused in config (a credential carries them),
// and the response's are not stored in the node's output.
import { z } from 'zod';
import type { ConfigProblem } from '../../engine/sdk/index.js';

/** Request headers that carry credentials by name or by a common naming habit. */
const SENSITIVE_REQUEST_HEADER =
  /^(authorization|proxy-authorization|cookie)$|(^|-)auth($|-)|api[-_]?key|(access|secret|private|subscription|auth)[-_]?key|token|secret|passw(or)?d|session|signature/i;

/** Query parameters that carry credentials by a common naming habit (`?api_key=…`). */
const SENSITIVE_QUERY_PARAMETER =
  /^(key|sig)$|api[-_]?key|(access|secret|private|client)[-_]?(key|secret)|token|secret|passw(or)?d|signature|session/i;

/** Problems for query parameters of `url` that look like secrets (a credential carries them). */
export function checkQuery(url: URL): ConfigProblem[] {
  return [...new Set(url.searchParams.keys())]
    .filter((name) => SENSITIVE_QUERY_PARAMETER.test(name))
    .map((name) => ({
      field: 'url',
      newVersionsOnly: true,
      message:
        `the query parameter "${name}" looks like a secret, which would be stored in clear in the workflow, ` +
        'its versions and exports: keep it in a credential and send it with `auth` (e.g. as a header)',
    }));
}

/** A URL as it may appear in an error: no user info, no query (either can carry a secret). */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}${url.search === '' ? '' : '?…'}`;
}
/** A value that looks like an authorization, whatever the header is called. */
const AUTHORIZATION_VALUE = /^\s*(bearer|basic|digest|token)\s+\S/i;

/** Response headers that hand out or ask for credentials: never stored in an output. */
export const SENSITIVE_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'set-cookie',
  'set-cookie2',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'cookie',
]);

export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Credentials name a secret kept outside the workflow (`stepwise secrets`, the Credentials view). */
const credentialName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a credential name (a letter, then letters, digits or _)');

export const authSchema = z
  .union([
    z.strictObject({ credential: credentialName, scheme: z.literal('bearer') }),
    z.strictObject({
      credential: credentialName,
      header: z.string().regex(HEADER_NAME, 'must be an HTTP header name'),
    }),
  ])
  .meta({
    format: 'credential-auth',
    description:
      'A credential sent with the request: `{ "credential": "stripe", "scheme": "bearer" }` ' +
      '(Authorization: Bearer …) or `{ "credential": "key", "header": "X-Api-Key" }`.',
  });
export type Auth = z.infer<typeof authSchema>;

/** The header an `auth` config sends, with the credential's value. */
export function authHeader(auth: Auth, value: string): [string, string] {
  return 'scheme' in auth ? ['Authorization', `Bearer ${value}`] : [auth.header, value];
}

export function checkHeaders(headers: Record<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (SENSITIVE_REQUEST_HEADER.test(name) || AUTHORIZATION_VALUE.test(value))
      problems.push({
        field: `headers.${name}`,
        newVersionsOnly: true,
        message:
          `"${name}" carries a secret, which would be stored in clear in the workflow, its versions and exports: ` +
          'keep it in a credential and use `auth` (e.g. { "credential": "name", "header": "' +
          `${SENSITIVE_REQUEST_HEADER.test(name) && !/^authorization$/i.test(name) ? name : 'Authorization'}" })`,
      });
  }
  return problems;
}

/** The response headers that may be stored. */
export function storableHeaders(headers: Headers, sentHeader: string | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of headers)
    if (!SENSITIVE_RESPONSE_HEADERS.has(name) && name !== sentHeader?.toLowerCase()) result[name] = value;
  return result;
}
