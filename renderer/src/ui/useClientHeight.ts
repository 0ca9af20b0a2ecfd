// An element's height as it is laid out, kept current by a ResizeObserver: what a windowed list
// needs to know how many rows it shows. Measured before paint, so the first frame has the rows.
import { useLayoutEffect, useState, type RefObject } from 'react';

export function useClientHeight(ref: RefObject<HTMLElement | null>, initial: number): number {
  const [height, setHeight] = useState(initial);
  useLayoutEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(() => setHeight(element.clientHeight));
    observer.observe(element);
    setHeight(element.clientHeight);
    return () => observer.disconnect();
  }, [ref]);
  return height;
}
