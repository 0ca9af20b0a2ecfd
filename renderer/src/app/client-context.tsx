// The engine client for components: the typed API, its connection status and its events.
import { createContext, useCallback, useContext, useEffect, useRef, useSyncExternalStore, type ReactNode } from 'react';
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

/**
 * Calls `onReconnect` each time the connection comes back after it was lost (not on the first
 * connect): pushed events sent meanwhile never arrived, so a live view reads again what it shows.
 */
export function useOnReconnect(onReconnect: () => void): void {
  const status = useClientStatus();
  const wasLost = useRef(false);
  useEffect(() => {
    if (status !== 'ready') {
      if (status === 'reconnecting') wasLost.current = true;
      return;
    }
    if (!wasLost.current) return;
    wasLost.current = false;
    onReconnect();
  }, [status, onReconnect]);
}

/**
 * Keeps what `refresh` reads current: read at once, again `delayMs` after the last `runsChanged`
 * (a burst of changes is one read), and after a reconnect.
 */
export function useLiveRefresh(refresh: () => void, delayMs: number): void {
  useEffect(refresh, [refresh]);
  useOnReconnect(refresh);
  const timer = useRef<number | undefined>(undefined);
  const onRunsChanged = useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(refresh, delayMs);
  }, [refresh, delayMs]);
  useEngineEvent('runsChanged', onRunsChanged);
  useEffect(() => () => window.clearTimeout(timer.current), []);
}
