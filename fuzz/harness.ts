// The fuzz harness: seeded mutations of valid inputs, each read by the reader under test in a
// child process with a time limit and a memory cap. A reader passes a probe when it either
// returns (it accepted the input) or throws a clean error: a typed error (its own class, not a
// bare Error, a built-in TypeError/RangeError/... or a raw Node system error) whose message
// names the input. Crashes, hangs, cap hits and raw errors are bad probes, kept on disk.
//
// One module per reader lives in fuzz/targets/ and exports `target: FuzzTarget`. The parent
// imports it only for seeds(); read() runs in fuzz/child.ts. Probes run one at a time through
// one child; a child that crashed, hung or hit the cap is replaced before the next probe.

import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GENERIC_MUTATORS, type Mutator, seededRng } from './mutators.js';

export { GENERIC_MUTATORS, type Mutator, pick, randInt, type Rng, seededRng } from './mutators.js';

export interface FuzzSeed {
  /** What read() is handed: a file, or a folder such as a dataset. */
  readonly path: string;
  /** The one file inside `path` whose bytes are mutated (default: `path` itself). */
  readonly mutate?: string;
}

export interface FuzzTarget {
  readonly name: string;
  /** Parent side, once: write small valid inputs under `dir` and return them. */
  seeds(dir: string): Promise<FuzzSeed[]>;
  /** Child side: read the input completely, as a user would; throw on anything wrong. */
  read(path: string): Promise<void>;
  /** Format-aware mutators, used for about half of the mutations when present. */
  readonly mutators?: Readonly<Record<string, Mutator>>;
  /** false: draw only from `mutators` (default true: the generic byte mutators too). */
  readonly genericMutators?: boolean;
  /** Per-probe time limit in ms (default 3000). */
  readonly timeoutMs?: number;
  /** Per-probe cap on the child's resident memory in MiB (default 600). */
  readonly memoryCapMb?: number;
}

/** How one probe ended. `ok` and `clean` pass; the rest are bad. */
export type ProbeOutcome = 'ok' | 'clean' | 'raw-error' | 'crash' | 'hang' | 'memory';

export interface ProbeResult {
  readonly probe: number;
  readonly seed: string;
  readonly mutators: readonly string[];
  readonly outcome: ProbeOutcome;
  /** The error (name: message), the signal or exit code, or the limit that was hit. */
  readonly detail: string;
  readonly ms: number;
  /** Largest resident size of the child seen during the probe (MiB; 0 where /proc is missing). */
  readonly peakRssMb: number;
  /** Where the probe's input was kept (bad probes only). */
  readonly kept?: string;
}

export interface FuzzReport {
  readonly target: string;
  readonly tried: number;
  /** Probes the reader accepted. */
  readonly ok: number;
  /** Probes the reader refused with a clean, typed error naming the input. */
  readonly clean: number;
  readonly bad: readonly ProbeResult[];
  readonly slowest: ProbeResult | null;
  readonly largestMemory: ProbeResult | null;
  readonly seconds: number;
}

export interface FuzzOptions {
  readonly iterations: number;
  /** Probe k of seed s is the same input on every machine. */
  readonly seed?: number;
  /** Where bad probes' inputs are kept (default .tmp/fuzz/<target> under the repository). */
  readonly keepDir?: string;
  readonly onProgress?: (done: number, total: number, last: ProbeResult) => void;
  readonly signal?: AbortSignal;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
/** A fresh child imports tsx and the reader's package: slow on a loaded 2-core machine. */
const CHILD_START_TIMEOUT_MS = 60_000;
const RSS_POLL_MS = 20;

/** Runs `iterations` probes of the target module (a file path or URL) and reports them. */
export async function fuzzTarget(module: string | URL, options: FuzzOptions): Promise<FuzzReport> {
  const modulePath = module instanceof URL ? fileURLToPath(module) : module;
  const { target } = (await import(pathToFileURL(modulePath).href)) as { target: FuzzTarget };
  if (!target || typeof target.read !== 'function' || typeof target.seeds !== 'function') {
    throw new Error(`${modulePath}: does not export \`target\` with seeds() and read() (see fuzz/harness.ts)`);
  }
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), `gpt-fuzz-${target.name}-`));
  const keepDir = options.keepDir ?? join(REPO_ROOT, '.tmp', 'fuzz', target.name);
  const child = new ProbeChild(modulePath, target.timeoutMs ?? 3000, target.memoryCapMb ?? 600);
  const results: ProbeResult[] = [];
  try {
    const seedDir = join(work, 'seeds');
    mkdirSync(seedDir);
    const seeds = await target.seeds(seedDir);
    if (seeds.length === 0) throw new Error(`${modulePath}: seeds() returned no inputs`);
    // Plain Uint8Array copies: a Buffer's slice() is a view, and a mutator would edit the seed.
    const seedBytes = seeds.map((s) => new Uint8Array(readFileSync(s.mutate ?? s.path)));
    const mutators = pickMutators(target);
    for (let probe = 0; probe < options.iterations; probe++) {
      options.signal?.throwIfAborted();
      const rng = seededRng(((options.seed ?? 1) * 1_000_003 + probe) | 0);
      const seedIndex = probe % seeds.length;
      const seed = seeds[seedIndex]!;
      let bytes: Uint8Array = seedBytes[seedIndex]!;
      const applied: string[] = [];
      for (let k = 1 + Math.floor(rng() * 3); k > 0; k--) {
        const [name, mutate] = mutators(rng);
        bytes = new Uint8Array(mutate(bytes, rng)); // a copy, whatever the mutator returned
        applied.push(name);
      }
      // The probe gets its own copy of the seed (a whole folder where the seed is one), so a
      // reader that writes next to its input cannot leak into the next probe.
      const probeDir = join(work, `probe-${probe}`);
      mkdirSync(probeDir);
      const probePath = join(probeDir, basename(seed.path));
      cpSync(seed.path, probePath, { recursive: true, verbatimSymlinks: true });
      writeFileSync(join(probePath, relative(seed.path, seed.mutate ?? seed.path)), bytes);

      const run = await child.probe(probePath);
      let kept: string | undefined;
      if (run.outcome !== 'ok' && run.outcome !== 'clean') {
        kept = join(keepDir, `probe-${probe}`);
        rmSync(kept, { recursive: true, force: true });
        mkdirSync(kept, { recursive: true });
        cpSync(probeDir, kept, { recursive: true, verbatimSymlinks: true });
        writeFileSync(join(kept, 'probe.json'), JSON.stringify({ seed: seed.path, mutators: applied, ...run }, null, 2));
      }
      rmSync(probeDir, { recursive: true, force: true });
      const result: ProbeResult = { probe, seed: basename(seed.path), mutators: applied, ...run, ...(kept ? { kept } : {}) };
      results.push(result);
      options.onProgress?.(probe + 1, options.iterations, result);
    }
  } finally {
    child.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const passed = (r: ProbeResult) => r.outcome === 'ok' || r.outcome === 'clean';
  const max = (key: 'ms' | 'peakRssMb') => results.reduce<ProbeResult | null>((best, r) => (!best || r[key] > best[key] ? r : best), null);
  return {
    target: target.name,
    tried: results.length,
    ok: results.filter((r) => r.outcome === 'ok').length,
    clean: results.filter((r) => r.outcome === 'clean').length,
    bad: results.filter((r) => !passed(r)),
    slowest: max('ms'),
    largestMemory: max('peakRssMb'),
    seconds: (performance.now() - started) / 1000,
  };
}

/** Draws a mutator: the target's own ones about half the time when it has any. */
function pickMutators(target: FuzzTarget): (rng: () => number) => [string, Mutator] {
  const generic = target.genericMutators === false ? [] : Object.entries(GENERIC_MUTATORS);
  const own = Object.entries(target.mutators ?? {});
  if (generic.length + own.length === 0) throw new Error(`fuzz target ${target.name}: no mutators (genericMutators is false and mutators is empty)`);
  return (rng) => {
    const pool = own.length > 0 && (generic.length === 0 || rng() < 0.5) ? own : generic;
    return pool[Math.floor(rng() * pool.length)]!;
  };
}

/** What the child reports for one probe (see child.ts). */
interface ChildAnswer {
  readonly outcome: 'ok' | 'clean' | 'raw-error';
  readonly detail: string;
}

/** The child process that reads probes, replaced whenever one kills it. */
class ProbeChild {
  private process: ChildProcess | null = null;
  private stderrTail = '';
  private answer: ((a: ChildAnswer) => void) | null = null;
  private exited: ((detail: string) => void) | null = null;

  constructor(
    private readonly modulePath: string,
    private readonly timeoutMs: number,
    private readonly memoryCapMb: number,
  ) {}

  async probe(path: string): Promise<Omit<ProbeResult, 'probe' | 'seed' | 'mutators' | 'kept'>> {
    const child = await this.ensureStarted();
    const started = performance.now();
    let peakRssMb = rssMb(child.pid!);
    return new Promise((resolve) => {
      const finish = (outcome: ProbeOutcome, detail: string) => {
        clearInterval(poll);
        clearTimeout(timer);
        this.answer = null;
        this.exited = null;
        if (outcome === 'crash' || outcome === 'hang' || outcome === 'memory') this.kill();
        resolve({ outcome, detail, ms: Math.round(performance.now() - started), peakRssMb });
      };
      const poll = setInterval(() => {
        peakRssMb = Math.max(peakRssMb, rssMb(child.pid!));
        if (peakRssMb > this.memoryCapMb) finish('memory', `resident memory ${peakRssMb} MiB > cap ${this.memoryCapMb} MiB`);
      }, RSS_POLL_MS);
      const timer = setTimeout(() => finish('hang', `no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      this.answer = (a) => finish(a.outcome, a.detail);
      this.exited = (detail) => finish('crash', detail);
      child.send({ path });
    });
  }

  stop(): void {
    this.kill();
  }

  private kill(): void {
    const child = this.process;
    this.process = null;
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }

  private async ensureStarted(): Promise<ChildProcess> {
    if (this.process) return this.process;
    this.stderrTail = '';
    const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', CHILD, this.modulePath], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    this.process = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fuzz child for ${this.modulePath} did not start within ${CHILD_START_TIMEOUT_MS} ms`)), CHILD_START_TIMEOUT_MS);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`fuzz child for ${this.modulePath} exited while starting (${signal ?? code}): ${this.stderrTail}`));
      });
    });
    child.on('message', (a: ChildAnswer) => this.answer?.(a));
    child.on('exit', (code, signal) => {
      if (this.process === child) this.process = null;
      this.exited?.(`child exited (${signal ?? `code ${code}`}): ${this.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
    });
    return child;
  }
}

/** The resident size of a process in MiB from /proc (0 where /proc is not there). */
function rssMb(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0; // the process just exited
  }
}
