// Running the PyTorch reference scripts (benchmarks/*_torch.py) with Debian's
// python3-torch through /usr/bin/python3 (the python3 first on PATH may be another
// interpreter without it). Benchmarks skip their PyTorch columns, with this reason,
// where it is not installed. `pythonCandidates` lists where else a PyTorch may live (a GPU
// machine's CUDA PyTorch is often not Debian's).

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = '/usr/bin/python3';
const BENCHMARKS = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The path of benchmarks/<script>. */
export function benchmarkScript(script: string): string {
  return join(BENCHMARKS, script);
}

/** Pythons to try for PyTorch, in order: $GPT_PYTHON, python3 on PATH, /usr/bin/python3 (each once). */
export function pythonCandidates(): string[] {
  return [...new Set([process.env.GPT_PYTHON, 'python3', PYTHON].filter((p): p is string => !!p))];
}

let reason: string | null | undefined;

/** null when `import torch` works, else why the PyTorch columns are skipped. */
export function pytorchUnavailableReason(): string | null {
  if (reason !== undefined) return reason;
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  reason =
    probe.status === 0
      ? null
      : `PyTorch not found for ${PYTHON} (apt-get install -y python3-torch python3-numpy libopenblas0-pthread): ${(probe.stderr || String(probe.error ?? '')).trim().split('\n').at(-1)}`;
  return reason;
}

/** Runs benchmarks/<script> with `args`; returns its stdout, throws with its stderr on failure. */
export function runPython(script: string, args: string[]): string {
  const result = spawnSync(PYTHON, [benchmarkScript(script), ...args], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (result.status !== 0) throw new Error(`${script} failed (exit ${result.status}): ${result.stderr || String(result.error)}`);
  return result.stdout;
}
