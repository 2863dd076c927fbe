// pnpm fuzz [--iterations N] [--target NAME]... [--seed S] [--json]
// Runs every reader's fuzz target in fuzz/targets/ (or the named ones) for N probes each and
// prints tried / ok / clean / bad per target with the slowest and the largest-memory probe.
// Bad probes' inputs are kept under .tmp/fuzz/<target>/ with a probe.json saying what happened.
// The exit status is 1 when any probe was bad.

import { readdirSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type FuzzReport, fuzzTarget } from './harness.js';

const USAGE = 'usage: pnpm fuzz [--iterations N (default 1000 per target)] [--target NAME]... [--seed S] [--json]';
let args;
try {
  args = parseArgs({
    options: {
      iterations: { type: 'string', default: '1000' },
      target: { type: 'string', multiple: true },
      seed: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
} catch (error) {
  console.error(`${(error as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}
const iterations = Number(args.iterations);
const seed = Number(args.seed);
if (!Number.isInteger(iterations) || iterations < 1) fail(`--iterations must be a positive integer, got '${args.iterations}'`);
if (!Number.isInteger(seed)) fail(`--seed must be an integer, got '${args.seed}'`);

const targetDir = fileURLToPath(new URL('./targets/', import.meta.url));
const available = readdirSync(targetDir).filter((f) => f.endsWith('.ts')).map((f) => basename(f, '.ts')).sort();
const chosen = args.target ?? available;
for (const name of chosen) if (!available.includes(name)) fail(`unknown --target '${name}'; known: ${available.join(', ')}`);

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
const reports: FuzzReport[] = [];
for (const name of chosen) {
  const report = await fuzzTarget(`${targetDir}${name}.ts`, {
    iterations,
    seed,
    signal: controller.signal,
    onProgress: (done, total, last) => {
      if (!args.json && process.stderr.isTTY) process.stderr.write(`\r${name}: ${done}/${total} (last: ${last.outcome})   `);
    },
  });
  if (!args.json && process.stderr.isTTY) process.stderr.write('\n');
  reports.push(report);
  if (!args.json) print(report);
}
if (args.json) console.log(JSON.stringify(reports, null, 2));
else {
  const total = reports.reduce((n, r) => n + r.tried, 0);
  const bad = reports.reduce((n, r) => n + r.bad.length, 0);
  console.log(`\nall targets: ${total} probes, ${total - bad} clean or accepted, ${bad} bad`);
}
process.exit(reports.some((r) => r.bad.length > 0) ? 1 : 0);

function print(r: FuzzReport): void {
  console.log(`${r.target}: ${r.tried} probes in ${r.seconds.toFixed(1)} s: ${r.ok} accepted, ${r.clean} refused cleanly, ${r.bad.length} bad`);
  if (r.slowest) console.log(`  slowest: probe ${r.slowest.probe} (${r.slowest.mutators.join('+')}) ${r.slowest.ms} ms, ${r.slowest.outcome}`);
  if (r.largestMemory) console.log(`  largest memory: probe ${r.largestMemory.probe} (${r.largestMemory.mutators.join('+')}) ${r.largestMemory.peakRssMb} MiB resident`);
  for (const b of r.bad.slice(0, 20)) console.log(`  BAD probe ${b.probe} [${b.outcome}] ${b.mutators.join('+')} on ${b.seed}: ${b.detail}\n    kept: ${b.kept}`);
  if (r.bad.length > 20) console.log(`  ... and ${r.bad.length - 20} more bad probes`);
}

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}
