// `pnpm bench gpu [--json] [--kernels auto|gpu|software] [--only matmul,kernels,steps] [--reps N]
//                 [--scale auto|full|small] [--max-seconds S] [--torch-cpu]`
// One command for a GPU machine: the WebGPU backend's matmul at 1024-4096³ (GFLOP/s), the kernels
// of a G.pt training step at that step's shapes (GFLOP/s or GB/s), and two G.pt-shaped training
// steps (ms, forward ms, dispatches and submits per step), each row beside the same work in
// PyTorch fp32 with TF32 off (benchmarks/gpu_torch.py) when a Python with CUDA PyTorch is found
// ($GPT_PYTHON, python3, /usr/bin/python3), with the ratio x_torch = our ms / PyTorch's ms.
// The rows are in benchmarks/gpu/workloads.ts; timing in benchmarks/gpu/timing.ts.
//
// On a bare GPU machine without network access, pack here (after pnpm install and pnpm build):
//     bash ../shared/tools/device-pack.sh
// and run there, from a copy of the project root that holds .devpack/:
//     source .devpack/unpack.sh && node --conditions=@gpt/source --import tsx benchmarks/run.ts gpu --json > $OUT/gpu.jsonl
// The JSON lines are printed as rows finish, so a run cut short keeps what it measured. The run
// stops starting rows at --max-seconds (default 220, so the whole command, PyTorch included,
// ends within 4 minutes); a row that fails prints its error and the run goes on; the exit code
// is non-zero only when none of our rows ran. On a software adapter (lavapipe) the sizes are
// divided (--scale small) so the run takes minutes; the adapter line says which scale and why.
// Everything imported here is in the device pack (optional column libraries such as tfjs and
// gpu.js, which its EXCLUDE list drops, are not imported).

import { CliUsageError, defineCli, type CliValues } from '@gpt/g-pt/cli';
import { setDefaultDevice } from '@gpt/tensor';
import { initWebGPU, isSoftwareAdapter, probeWebGPU, type KernelProfile, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { adapterLines, adapterReport } from './gpu/adapter.js';
import { timeCalls } from './gpu/timing.js';
import { TorchWorker } from './gpu/torch-worker.js';
import { SECTIONS, workloads, type ScaleName, type Section, type Workload } from './gpu/workloads.js';
import { JSON_OPTION, report, type Row } from './util.js';

export const cli = defineCli({
  name: 'pnpm bench gpu',
  summary:
    'WebGPU matmul, G.pt kernels and G.pt training steps at GPU sizes, beside PyTorch CUDA fp32 (TF32 off) when present; for a GPU machine (see the header of benchmarks/gpu.ts).',
  options: {
    json: JSON_OPTION,
    kernels: { type: 'string', choices: ['auto', 'gpu', 'software'], default: 'auto', description: "the backend's kernel profile (auto: chosen by the adapter)" },
    only: { type: 'string', default: SECTIONS.join(','), placeholder: 'SECTION,...', description: `sections to run: ${SECTIONS.join(', ')}` },
    reps: { type: 'integer', default: 5, min: 1, description: 'timed batches per row (the median is kept)' },
    scale: {
      type: 'string',
      choices: ['auto', 'full', 'small'],
      default: 'auto',
      description: 'sizes: full (the issue\'s), small (divided, for software adapters); auto: full on a hardware adapter',
    },
    maxSeconds: { type: 'number', default: 220, min: 1, description: 'start no row after this many seconds from the start (remaining rows are listed as skipped)' },
    torchCpu: { type: 'boolean', description: 'without CUDA PyTorch, compare with PyTorch on the CPU (only to try the comparison; meaningless beside a GPU)' },
  },
});

type Options = CliValues<typeof cli.options>;

function parseSections(text: string): Section[] {
  const names = text.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
  if (unknown.length > 0 || names.length === 0) throw new CliUsageError(`--only takes sections among ${SECTIONS.join(', ')}, got "${text}"`, '--only');
  return SECTIONS.filter((s) => names.includes(s));
}

/** The first line of an error, short enough for a table cell. */
function errorText(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

interface Run {
  backend: WebGPUBackend;
  torch: TorchWorker | null;
  reps: number;
  /** performance.now() after which no row starts. */
  deadline: number;
  maxSeconds: number;
}

/** Rates from a row's ms: GFLOP/s and GB/s where the work has flops or bytes. */
function rates(prefix: string, ms: number, flops: number | undefined, bytes: number | undefined): Row {
  const row: Row = {};
  if (flops) row[`${prefix}gflops`] = flops / (ms / 1000) / 1e9;
  if (bytes) row[`${prefix}GB_s`] = bytes / (ms / 1000) / 1e9;
  return row;
}

/** The columns in reading order: ours, PyTorch's, the ratios, the counters; anything else last. */
const COLUMNS = ['bench', 'section', 'name', 'shape', 'ms', 'fwd_ms', 'gflops', 'GB_s', 'torch_ms', 'torch_fwd_ms', 'torch_gflops', 'torch_GB_s', 'x_torch', 'x_torch_fwd', 'dispatches', 'submits', 'uploads'];

function ordered(row: Row): Row {
  const keys = [...COLUMNS.filter((c) => c in row), ...Object.keys(row).filter((k) => !COLUMNS.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, row[k]!]));
}

/** A section's rows for the table: the columns any row has, in reading order, without bench and section. */
function tableRows(rows: readonly Row[]): Row[] {
  const columns = Object.keys(ordered(Object.assign({}, ...rows) as Row)).filter((c) => c !== 'bench' && c !== 'section');
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null])));
}

/** Our side of a row: ms, rates, and the backend's counters for one call (fwd_ms for steps). */
async function runOurs(w: Workload, run: Run, row: Row): Promise<{ torch?: object; bytes?: number }> {
  const sync = () => run.backend.sync();
  const prepared = w.prepare();
  try {
    if (prepared.shape) row.shape = prepared.shape;
    const bytes = prepared.bytes ?? w.bytes;
    const timed = await timeCalls(prepared.call, sync, run.reps, run.deadline);
    Object.assign(row, { ms: timed.ms, ...rates('', timed.ms, w.flops, bytes) });
    const before = run.backend.stats();
    await prepared.call();
    await sync();
    const after = run.backend.stats();
    row.dispatches = after.dispatches - before.dispatches;
    if (w.section === 'steps') {
      row.submits = after.submits - before.submits;
      row.uploads = after.uploads - before.uploads;
    }
    return { torch: prepared.torch, bytes };
  } finally {
    prepared.dispose();
  }
}

async function runOursForward(w: Workload, run: Run, row: Row, notes: string[]): Promise<void> {
  if (!w.prepareForward) return;
  if (performance.now() > run.deadline) {
    notes.push(`fwd_ms skipped: --max-seconds ${run.maxSeconds} reached`);
    return;
  }
  const prepared = w.prepareForward();
  try {
    row.fwd_ms = (await timeCalls(prepared.call, () => run.backend.sync(), run.reps, run.deadline)).ms;
  } finally {
    prepared.dispose();
  }
}

async function runRow(w: Workload, run: Run): Promise<Row> {
  const row: Row = { bench: 'gpu', section: w.section, name: w.name, shape: w.shape };
  const notes: string[] = [];
  if (performance.now() > run.deadline) {
    row.note = `skipped: --max-seconds ${run.maxSeconds} reached`;
    return row;
  }
  let torchSpec = w.torch;
  let bytes = w.bytes;
  try {
    const built = await runOurs(w, run, row);
    torchSpec = built.torch ?? torchSpec;
    bytes = built.bytes;
    await runOursForward(w, run, row, notes);
  } catch (error) {
    notes.push(`error: ${errorText(error)}`);
  } finally {
    run.backend.trimPool(); // the next row, and PyTorch, start with the GPU memory given back
  }
  if (run.torch?.alive && torchSpec) {
    const budget = (run.deadline - performance.now()) / 1000;
    if (budget <= 0) notes.push(`PyTorch skipped: --max-seconds ${run.maxSeconds} reached`);
    else {
      try {
        const t = await run.torch.run(torchSpec, run.reps, budget);
        Object.assign(row, { torch_ms: t.ms, ...rates('torch_', t.ms, w.flops, bytes) });
        if (t.fwd_ms !== undefined) row.torch_fwd_ms = t.fwd_ms;
        if (typeof row.ms === 'number') row.x_torch = row.ms / t.ms;
        if (typeof row.fwd_ms === 'number' && t.fwd_ms) row.x_torch_fwd = row.fwd_ms / t.fwd_ms;
      } catch (error) {
        notes.push(`PyTorch error: ${errorText(error)}`);
      }
    }
  }
  if (run.torch && !run.torch.alive && torchSpec) notes.push('PyTorch: its worker stopped at an earlier row');
  if (notes.length > 0) row.note = notes.join('; ');
  return ordered(row);
}

/** Starts the PyTorch worker (CUDA; the CPU too with --torch-cpu); the line that says what it compares with. */
async function startTorch(options: Options, deadline: number): Promise<{ worker: TorchWorker | null; line: string }> {
  const timeoutMs = () => Math.max(5_000, Math.min(120_000, deadline - performance.now()));
  const cuda = await TorchWorker.start('cuda', timeoutMs());
  if (cuda instanceof TorchWorker) return { worker: cuda, line: `PyTorch: ${cuda.label} (${cuda.python}), fp32 with TF32 off` };
  if (!options.torchCpu) return { worker: null, line: `PyTorch: no CUDA PyTorch found, ours only (${cuda.reason})` };
  const cpu = await TorchWorker.start('cpu', timeoutMs());
  if (cpu instanceof TorchWorker) return { worker: cpu, line: `PyTorch: ${cpu.label} (${cpu.python}; --torch-cpu: a CPU, not a GPU, so the ratios only try the comparison)` };
  return { worker: null, line: `PyTorch: none found, ours only (CUDA: ${cuda.reason}; CPU: ${cpu.reason})` };
}

export async function main(options: Options): Promise<void> {
  const start = performance.now();
  const deadline = start + options.maxSeconds * 1000;
  const sections = parseSections(options.only);
  const say = (line: string) => process.stderr.write(`gpu [${((performance.now() - start) / 1000).toFixed(1)} s]: ${line}\n`);
  const probe = await probeWebGPU();
  if (!probe.available) {
    if (options.json) console.log(JSON.stringify({ bench: 'gpu', section: 'adapter', error: probe.reason }));
    else console.log(`adapter: none (${probe.reason})`);
    process.exitCode = 1;
    return;
  }
  const software = isSoftwareAdapter(probe.adapter);
  const scale: ScaleName = options.scale === 'auto' ? (software ? 'small' : 'full') : options.scale;
  const scaleWhy =
    options.scale !== 'auto'
      ? '--scale'
      : software
        ? 'a software adapter: sizes divided so the run takes minutes; --scale full for the real ones'
        : 'a hardware adapter';
  const backend = await initWebGPU({ kernels: options.kernels === 'auto' ? undefined : (options.kernels as KernelProfile) });
  setDefaultDevice(backend.name);
  const adapter = await adapterReport(backend);
  const torch = await startTorch(options, deadline);
  if (options.json) {
    console.log(JSON.stringify({ bench: 'gpu', section: 'adapter', ...adapter, kernels_option: options.kernels, scale, scale_reason: scaleWhy, torch: torch.line }));
  } else {
    console.log([...adapterLines(adapter), `scale: ${scale} (${scaleWhy})`, torch.line].join('\n'));
  }
  const run: Run = { backend, torch: torch.worker, reps: options.reps, deadline, maxSeconds: options.maxSeconds };
  let ours = 0;
  try {
    for (const section of sections) {
      const rows: Row[] = [];
      for (const w of workloads(section, scale)) {
        say(`${section}: ${w.name} ${w.shape}`);
        const row = await runRow(w, run);
        if (typeof row.ms === 'number') ours++;
        if (options.json) console.log(JSON.stringify(row));
        rows.push(row);
      }
      if (!options.json) {
        console.log(`\n${section}${section === 'steps' ? ' (ms per step)' : ''}`);
        report(tableRows(rows), false);
      }
    }
  } finally {
    torch.worker?.close();
  }
  const wall = (performance.now() - start) / 1000;
  if (options.json) console.log(JSON.stringify({ bench: 'gpu', section: 'summary', wall_s: wall, rows_ours: ours }));
  else console.log(`\n${ours} of our rows ran in ${wall.toFixed(1)} s (x_torch: our ms / PyTorch's ms)`);
  if (ours === 0) process.exitCode = 1;
}
