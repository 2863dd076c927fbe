// Tidy scopes: tidy(fn) and tidyAsync(fn) dispose every tensor created inside except
// the returned ones and those passed to keep(). Scopes form a stack; a new tensor joins
// the scope that owns the code running now (see owner()).
//
// Async scopes and concurrent flows. JavaScript offers browsers no portable way to tell
// which async flow creates a tensor (node:async_hooks is Node-only), so while a
// tidyAsync waits on an await, whatever code runs meanwhile creates tensors into it.
// What is detected, exactly:
// 1. tidyAsync called inside a synchronous tidy() is refused: its scope would outlive tidy's.
// 2. tidyAsync started while another tidyAsync, opened in the same synchronous run, waits
//    on an await is refused (Promise.all([tidyAsync(a), tidyAsync(b)]), or two sampling
//    loops started together). Within that run the waiting scope's own code cannot be
//    running (its continuations are queued behind the microtask that ends the run), so
//    the second call is certainly another flow's. Plain tensors created there (by the code
//    that called the first tidyAsync) go to the scope around it, not into it.
// 3. An async scope that ends while a scope opened after it is still open (out of order)
//    throws; that scope and every scope above it dispose nothing (their tensors stay
//    alive: a leak liveTensorsSince can list, not another flow's tensors freed).
// Not detected: a second flow that starts in a later run (a timer, a UI event) while a
// tidyAsync waits, and whose scope ends first; its tensors and the waiting flow's mix.

import { isLiveTensor } from './live-tensors.js';

/** What a scope needs of a tensor. */
export interface ScopedTensor {
  dispose(): void;
}

interface Scope {
  readonly id: number;
  readonly tensors: Set<ScopedTensor>;
  readonly async: boolean;
  /** The synchronous run this scope was opened in (see runToken). */
  readonly run: object;
  /** An async scope's function is executing its synchronous part (not waiting on an await). */
  running: boolean;
  /** Found to overlap another flow's scope: it disposes nothing when it ends. */
  overlapped: boolean;
}

const scopes: Scope[] = [];
let nextScopeId = 0;

// A token for the current synchronous run: opening an async scope queues a microtask that
// replaces it, ahead of any continuation of that scope's function.
let runToken: object = {};
let runEndQueued = false;

function markRunEnd(): void {
  if (runEndQueued) return;
  runEndQueued = true;
  queueMicrotask(() => {
    runToken = {};
    runEndQueued = false;
  });
}

/** An async scope waiting on an await within the run that opened it: its code is not what runs now. */
function isWaitingThisRun(scope: Scope): boolean {
  return scope.async && !scope.running && scope.run === runToken;
}

/** The scope owning the code that runs now: the innermost one, skipping scopes that provably wait. */
function owner(): Scope | undefined {
  for (let i = scopes.length - 1; i >= 0; i--) {
    if (!isWaitingThisRun(scopes[i]!)) return scopes[i];
  }
  return undefined;
}

/** Registers a new tensor with the scope that owns the running code, if any. */
export function track(t: ScopedTensor): void {
  owner()?.tensors.add(t);
}

/** Removes `t` from every tidy scope so it survives them; returns it. */
export function keep<T extends ScopedTensor>(t: T): T {
  for (const scope of scopes) scope.tensors.delete(t);
  return t;
}

function openScope(async: boolean): Scope {
  const scope: Scope = { id: nextScopeId++, tensors: new Set(), async, run: runToken, running: false, overlapped: false };
  scopes.push(scope);
  return scope;
}

/** The live tensors in `value`, directly or inside arrays, maps and objects (4 levels deep). */
function collectTensors(value: unknown, into: Set<unknown>, depth = 0): Set<unknown> {
  if (depth > 4 || value === null || typeof value !== 'object') return into;
  if (isLiveTensor(value)) {
    into.add(value);
    return into;
  }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const item of items) collectTensors(item, into, depth + 1);
  return into;
}

/** Ends `scope`: its tensors in `returned` move to the owning scope, the others are disposed. */
function closeScope(scope: Scope, returned: ReadonlySet<unknown>, cause?: unknown): void {
  const index = scopes.lastIndexOf(scope);
  if (index !== scopes.length - 1) {
    const later = scopes.slice(index + 1);
    for (const s of later) s.overlapped = true;
    scopes.splice(index, 1);
    throw new Error(
      `tidyAsync: async scopes overlapped: scope #${scope.id} ended while scope #${later[0]!.id}, opened after it, is still open. ` +
        'Two async flows were creating tensors at the same time, so tensors of one landed in the other\'s scope; ' +
        'nothing in the overlapping scopes is disposed (liveTensorsSince lists what stays alive). ' +
        'Run the flows one after the other, or inside one tidyAsync.',
      { cause },
    );
  }
  scopes.pop();
  if (scope.overlapped) {
    throw new Error(
      `tidyAsync: scope #${scope.id} overlapped with another async flow's scope (see the earlier error); ` +
        `its ${scope.tensors.size} tensors were left alive rather than risk disposing the other flow's`,
      { cause },
    );
  }
  const parent = owner();
  for (const t of scope.tensors) {
    if (returned.has(t)) parent?.tensors.add(t);
    else t.dispose();
  }
}

const NOTHING: ReadonlySet<unknown> = new Set();

/**
 * Runs `fn` and disposes every tensor it created, except those it returns
 * (directly, or inside arrays, maps and plain objects) and those passed to keep().
 */
export function tidy<T>(fn: () => T): T {
  const scope = openScope(false);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    // Nothing was returned, so nothing created in the scope can be reached any more.
    closeScope(scope, NOTHING, error);
    throw error;
  }
  if (result instanceof Promise) {
    closeScope(scope, NOTHING);
    throw new Error('tidy: the function returned a Promise; tidy only works with synchronous code (use tidyAsync for async code)');
  }
  closeScope(scope, collectTensors(result, new Set()));
  return result;
}

/**
 * tidy for async code: awaits `fn` and disposes every tensor created while it ran,
 * except those it resolves to and those passed to keep(). Scopes nest (a tidyAsync or
 * tidy inside another tidyAsync); concurrent flows are refused where they can be told
 * apart (see the top of scopes.ts), so run tidyAsync calls one after the other.
 */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const parent = scopes.at(-1);
  if (parent && !parent.async) {
    throw new Error('tidyAsync: called inside a synchronous tidy(), whose scope ends before the async one would; call it outside tidy');
  }
  if (parent && isWaitingThisRun(parent)) {
    throw new Error(
      `tidyAsync: another tidyAsync (scope #${parent.id}) started in this same synchronous run is waiting on an await, ` +
        'so the tensors of both flows would land in one scope (e.g. Promise.all over tidyAsync calls). ' +
        'Await each tidyAsync before starting the next, or put both flows inside one tidyAsync.',
    );
  }
  markRunEnd();
  const scope = openScope(true);
  let result: T;
  try {
    scope.running = true;
    let pending: Promise<T>;
    try {
      pending = fn();
    } finally {
      scope.running = false;
    }
    result = await pending;
  } catch (error) {
    closeScope(scope, NOTHING, error);
    throw error;
  }
  closeScope(scope, collectTensors(result, new Set()));
  return result;
}
