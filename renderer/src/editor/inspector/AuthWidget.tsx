// The `auth` field of a node that sends a credential: the credential picked from the engine's
// list (names only), sent as a bearer token or in a named header. The value never passes here.
import { useEffect, useState } from 'react';
import { useApi } from '../../app/client-context.js';
import type { FieldWidgetProps } from './field-widgets.js';

interface Auth {
  credential: string;
  scheme?: 'bearer';
  header?: string;
}

function asAuth(value: unknown): Auth | null {
  if (value === null || typeof value !== 'object' || !('credential' in value)) return null;
  return value as Auth;
}

export function AuthWidget({ id, value, set }: FieldWidgetProps) {
  const api = useApi();
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    api.listCredentials({}).then(
      (listing) => setNames(listing.credentials.map((credential) => credential.name)),
      () => setNames([]),
    );
  }, [api]);
  const auth = asAuth(value);
  const header = auth?.header;
  const update = (credential: string, nextHeader: string | undefined) =>
    set(
      credential === ''
        ? undefined
        : nextHeader === undefined
          ? { credential, scheme: 'bearer' }
          : { credential, header: nextHeader },
    );
  const known = auth && !names.includes(auth.credential) ? [auth.credential, ...names] : names;
  return (
    <div className="auth-widget" data-testid="auth-field">
      <select
        id={id}
        data-testid="auth-credential"
        value={auth?.credential ?? ''}
        onChange={(event) => update(event.target.value, header)}
      >
        <option value="">none</option>
        {known.map((name) => (
          <option key={name} value={name}>
            {name}
            {names.includes(name) ? '' : ' (not set)'}
          </option>
        ))}
      </select>
      {auth && (
        <>
          <select
            aria-label="sent as"
            value={header === undefined ? 'bearer' : 'header'}
            onChange={(event) => update(auth.credential, event.target.value === 'bearer' ? undefined : 'X-Api-Key')}
          >
            <option value="bearer">Authorization: Bearer</option>
            <option value="header">in a header</option>
          </select>
          {header !== undefined && (
            <input
              aria-label="header name"
              value={header}
              onChange={(event) => update(auth.credential, event.target.value)}
            />
          )}
        </>
      )}
    </div>
  );
}
