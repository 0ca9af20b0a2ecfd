// Linux process facts read from /proc: a process's children (the engine host `stepwise serve`
// forked) and its memory (VmRSS, VmHWM), for crash tests and the parked-runs benchmark.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** The pids of `pid`'s children, from every thread's `children` list. */
export function childPids(pid: number): number[] {
  const pids = new Set<number>();
  for (const thread of readdirSync(`/proc/${pid}/task`)) {
    const text = readFileSync(`/proc/${pid}/task/${thread}/children`, 'utf8').trim();
    for (const child of text.split(/\s+/)) if (child !== '') pids.add(Number(child));
  }
  return [...pids];
}

export interface Memory {
  /** Resident set size now, bytes. */
  rss: number;
  /** The highest RSS the process has had, bytes. */
  peak: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string): number => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Whether `pid` is gone (or a zombie nobody has reaped yet: it holds no files any more). */
export function isGone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return true;
  try {
    // The state follows the parenthesised command name, which may itself contain spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}
