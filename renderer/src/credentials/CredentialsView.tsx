// The Credentials view: add, replace and delete the secrets nodes refer to by name. Values are
// write-only: the engine never sends one back, so the list shows name, source and date only.
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { Result } from '../../../engine/api/index.js';
import { useApi } from '../app/client-context.js';
import { errorText, useToast } from '../ui/toast.js';

type Listing = Result<'listCredentials'>;

const SOURCE_LABEL = { file: 'file', keychain: 'OS keychain', env: 'environment' } as const;

export function CredentialsView() {
  const api = useApi();
  const toast = useToast();
  const [listing, setListing] = useState<Listing | null>(null);
  const [name, setName] = useState('');
  const [value, setValue] = useState('');

  const reload = useCallback(
    () => api.listCredentials({}).then(setListing, (error: unknown) => toast(errorText(error), 'error')),
    [api, toast],
  );
  useEffect(() => void reload(), [reload]);

  const save = async (event: FormEvent) => {
    event.preventDefault();
    try {
      const saved = await api.setCredential({ name: name.trim(), value });
      toast(
        saved.source === 'env'
          ? `Saved "${saved.name}"; its environment variable overrides it while set`
          : `Saved "${saved.name}"`,
        'success',
      );
      setName('');
      setValue('');
      await reload();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  };

  const remove = async (credential: string) => {
    try {
      await api.deleteCredential({ name: credential });
      toast(`Deleted "${credential}"`, 'success');
      await reload();
    } catch (error) {
      toast(errorText(error), 'error');
    }
  };

  return (
    <section className="credentials" data-testid="credentials-view" aria-label="Credentials">
      <h1>Credentials</h1>
      <p className="hint">
        Secrets nodes refer to by name (an HTTP node&apos;s <code>auth</code>). Values are stored
        {listing ? (
          <>
            {' '}
            in <code>{listing.location}</code>
          </>
        ) : null}{' '}
        and never shown again; an environment variable <code>STEPWISE_SECRET_&lt;NAME&gt;</code> overrides one.
      </p>
      <form className="credential-form" onSubmit={(event) => void save(event)}>
        <label>
          Name
          <input
            data-testid="credential-name"
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="stripe"
            autoComplete="off"
            spellCheck={false}
          />
        </label>
        <label>
          Value
          <input
            data-testid="credential-value"
            type="password"
            value={value}
            onChange={(event) => setValue(event.target.value)}
            autoComplete="new-password"
          />
        </label>
        <button type="submit" className="primary" data-testid="credential-save" disabled={!name.trim() || !value}>
          Save
        </button>
      </form>
      {listing && listing.credentials.length === 0 ? (
        <p data-testid="credentials-empty">No credentials yet.</p>
      ) : (
        <table className="credential-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Source</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {listing?.credentials.map((credential) => (
              <tr key={credential.name} data-testid="credential-row" data-name={credential.name}>
                <td>{credential.name}</td>
                <td>{SOURCE_LABEL[credential.source]}</td>
                <td>{credential.updatedAt === null ? '—' : new Date(credential.updatedAt).toLocaleString()}</td>
                <td>
                  <button type="button" data-testid="credential-replace" onClick={() => setName(credential.name)}>
                    Replace
                  </button>
                  {credential.source !== 'env' && (
                    <button type="button" data-testid="credential-delete" onClick={() => void remove(credential.name)}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
