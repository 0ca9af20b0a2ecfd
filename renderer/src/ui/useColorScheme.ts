// The system's light / dark preference, live: for what CSS variables cannot reach (Monaco's
// theme, React Flow's colour mode).
import { useSyncExternalStore } from 'react';

const QUERY = '(prefers-color-scheme: dark)';

function subscribe(onChange: () => void): () => void {
  const media = window.matchMedia(QUERY);
  media.addEventListener('change', onChange);
  return () => media.removeEventListener('change', onChange);
}

export function useColorScheme(): 'light' | 'dark' {
  return useSyncExternalStore(
    subscribe,
    () => (window.matchMedia(QUERY).matches ? 'dark' : 'light'),
    () => 'light',
  );
}

export function useMonacoTheme(): 'vs' | 'vs-dark' {
  return useColorScheme() === 'dark' ? 'vs-dark' : 'vs';
}
