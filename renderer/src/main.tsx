// Renderer entry: picks the transport (desktop MessagePort or served-mode WebSocket) and mounts the app.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { EngineClient, WebSocketConnection, type Connection } from '../../engine/api/index.js';
import { App } from './app/App.js';
import { desktop } from './app/platform.js';
import { MessagePortConnection } from './transport/message-port.js';
import '@xyflow/react/dist/style.css';
import './styles.css';

const TOKEN_KEY = 'stepwise.token';

/** Served mode: the token comes in the URL once; keep it for reloads of this tab, drop it from the address bar. */
function servedToken(): string | null {
  const url = new URL(window.location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.toString());
  }
  return fromUrl ?? sessionStorage.getItem(TOKEN_KEY);
}

function connect(): Connection | string {
  if (desktop) return new MessagePortConnection();
  const token = servedToken();
  if (!token) return 'Open Stepwise with the address that `stepwise serve` printed: it carries the access token.';
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return new WebSocketConnection(
    `${scheme}://${window.location.host}/api/ws?token=${encodeURIComponent(token)}`,
    (url) => new WebSocket(url),
  );
}

const root = createRoot(document.getElementById('root') as HTMLElement);
const connection = connect();
if (typeof connection === 'string') root.render(<p className="fatal">{connection}</p>);
else {
  const client = new EngineClient(connection, { onProtocolError: (message) => console.warn(message) });
  root.render(
    <StrictMode>
      <App client={client} />
    </StrictMode>,
  );
}
