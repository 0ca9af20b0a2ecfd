// The builds a comparing benchmark measures: this checkout's (compiled by `npm run build`) and a base
// commit's (`BENCH_BASE`, default HEAD~1), compiled once into a cache folder and reused per sha.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Build {
  role: 'base' | 'this';
  /** A checkout whose `dist/` holds the compiled engine. */
  dir: string;
  /** What was asked for: a git ref, or HEAD (+ uncommitted changes) for this checkout. */
  ref: string;
  sha: string;
  /** How a table row names it: "base 1a2b3c4", "this 5d6e7f8". */
  label: string;
}

export type BaseBuild = { build: Build; note: string } | { build: undefined; note: string };

/** This file runs from dist/tests/bench/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The engine module both builds are loaded through. */
export const ENGINE_MODULE = join('dist', 'engine', 'runtime', 'engine.js');

/** Written last, so a build that was interrupted is never taken for a finished one. */
const BUILT_MARKER = '.stepwise-bench-built';

function git(args: readonly string[]): string {
  return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

export function thisBuild(): Build {
  const sha = git(['rev-parse', '--short', 'HEAD']);
  // Tracked files only: untracked ones (a node_modules symlink in a worktree) are not part of the build.
  const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
  return {
    role: 'this',
    dir: repoRoot,
    ref: dirty ? 'HEAD + uncommitted changes' : 'HEAD',
    sha,
    label: `this ${sha}${dirty ? '+' : ''}`,
  };
}

/**
 * Resolves `ref` and returns its build, compiling it first unless the cache has it. Never throws:
 * a base that cannot be built is reported in `note`, and the benchmark goes on with this build alone.
 */
export function baseBuild(ref: string): BaseBuild {
  if (ref === 'none') return { build: undefined, note: 'base: none (BENCH_BASE=none)' };
  let sha: string;
  try {
    sha = git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
  } catch {
    return { build: undefined, note: `base: cannot compare — BENCH_BASE=${ref} is not a commit here` };
  }
  const short = git(['rev-parse', '--short', sha]);
  const cache = process.env.BENCH_CACHE_DIR ?? join(tmpdir(), 'stepwise-bench');
  const dir = join(cache, sha);
  const build: Build = { role: 'base', dir, ref, sha: short, label: `base ${short}` };
  if (existsSync(join(dir, BUILT_MARKER))) return { build, note: `base: ${ref} = ${short} (cached build in ${dir})` };

  // Built in a private folder and renamed into place, so two benchmarks started at once never
  // compile into the same folder or see half a build.
  const staging = `${dir}.building-${process.pid}`;
  try {
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    // An export of the commit, not a `git worktree`: nothing is registered in the repository, so a
    // cleared cache leaves no stale worktree behind.
    const archive = execFileSync('git', ['archive', '--format=tar', sha], { cwd: repoRoot, maxBuffer: 1 << 30 });
    execFileSync('tar', ['-x', '-C', staging], { input: archive });
    // The base runs on this checkout's packages; the engine's dependencies rarely change between
    // the commits compared, and installing them per sha would take minutes.
    symlinkSync(realpathSync(join(repoRoot, 'node_modules')), join(staging, 'node_modules'), 'dir');
    const tsc = join(staging, 'node_modules', 'typescript', 'bin', 'tsc');
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: staging, stdio: 'pipe' });
    if (!existsSync(join(staging, ENGINE_MODULE))) throw new Error(`the build has no ${ENGINE_MODULE}`);
    writeFileSync(join(staging, BUILT_MARKER), `${sha}\n`);
    if (existsSync(join(dir, BUILT_MARKER))) rmSync(staging, { recursive: true, force: true });
    else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    }
    return { build, note: `base: ${ref} = ${short} (built in ${dir})` };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    return { build: undefined, note: `base: cannot compare — building ${ref} = ${short} failed: ${firstLine(error)}` };
  }
}

/** The first line that says something: tsc prints its errors on stdout, git and tar on stderr. */
export function firstLine(error: unknown): string {
  const streams = error instanceof Error ? [errorOutput(error, 'stdout'), errorOutput(error, 'stderr')] : [];
  const text = [...streams, error instanceof Error ? error.message : String(error)].join('\n');
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line !== '') ?? 'unknown error'
  );
}

function errorOutput(error: Error, stream: 'stdout' | 'stderr'): string {
  const output: unknown = (error as Error & Partial<Record<typeof stream, unknown>>)[stream];
  return output instanceof Buffer || typeof output === 'string' ? output.toString() : '';
}
