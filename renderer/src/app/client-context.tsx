// The engine client for components: the typed API, its connection status and its events.
import { createContext, useCallback, useContext, useEffect, useSyncExternalStore, type ReactNode } from 'react';
import type { ClientStatus, EngineApi, EngineClient, EventData, EventName } from '../../../engine/api/index.js';

const ClientContext = createContext<EngineClient | null>(null);

export function ClientProvider({ client, children }: { client: EngineClient; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): EngineClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient outside ClientProvider');
  return client;
}

export function useApi(): EngineApi {
  return useClient().api;
}

export function useClientStatus(): ClientStatus {
  const client = useClient();
  const subscribe = useCallback((onChange: () => void) => client.onStatus(onChange), [client]);
  return useSyncExternalStore(subscribe, () => client.status);
}

export function useEngineEvent<E extends EventName>(event: E, listener: (data: EventData<E>) => void): void {
  const client = useClient();
  useEffect(() => client.on(event, listener), [client, event, listener]);
}
