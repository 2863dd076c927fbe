// Compiles the WASM kernels (assembly/, AssemblyScript) into build/:
//   kernels-shared.wasm   shared memory, for the main thread plus the worker pool
//   kernels-private.wasm  ordinary memory, for hosts without SharedArrayBuffer
// Run by `pnpm build` before tsup, which inlines both into dist/ (tsup.config.ts);
// tests read them from build/ directly (src/wasm/kernel-bytes.ts).
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DATA_START = 4096;
const DATA_END = 65536;
const outDir = join(root, 'build');

const common = [
  'assembly/index.ts',
  '--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd', '--enable', 'threads',
  '--importMemory', '--initialMemory', '17', '--maximumMemory', '32768',
  // Constant tables of the standard library (exp, log) go above the job block and
  // below the heap (src/wasm/wasm-kernels.ts: control 256, job 1024, heap 65536).
  '--memoryBase', String(DATA_START),
  // No abort import: the kernels take no strings and never assert at run time.
  '--use', 'abort=',
];

function leb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, at];
  }
}

/** [start, end) of every active data segment (header, then sections of id byte + LEB128 size). */
function dataSegments(bytes) {
  const segments = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = leb(bytes, at);
    const end = at + size;
    if (id === 11) {
      let count;
      let p;
      [count, p] = leb(bytes, at);
      for (let i = 0; i < count; i++) {
        let flags;
        [flags, p] = leb(bytes, p);
        if (flags !== 0 || bytes[p] !== 0x41) throw new Error('unexpected data segment form (expected active, i32.const offset)');
        let offset;
        [offset, p] = leb(bytes, p + 1);
        p += 1; // end
        let length;
        [length, p] = leb(bytes, p);
        segments.push([offset, offset + length]);
        p += length;
      }
    }
    at = end;
  }
  return segments;
}

async function build(variant, extra) {
  const file = join(outDir, `kernels-${variant}.wasm`);
  const { error, stderr } = await asc.main([...common, ...extra, '--outFile', file], {});
  if (error) {
    console.error(stderr.toString());
    throw new Error(`asc failed for the ${variant} kernels: ${error.message}`);
  }
  const bytes = readFileSync(file);
  // Every worker instantiates the module over the same memory and so re-applies its
  // data segments: they must hold constants only, away from the job block and heap.
  for (const [start, end] of dataSegments(bytes)) {
    if (start < DATA_START || end > DATA_END) throw new Error(`${file}: a data segment at [${start}, ${end}) leaves [${DATA_START}, ${DATA_END})`);
  }
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => `${i.module}.${i.name}`);
  if (imports.join() !== 'env.memory') throw new Error(`${file} imports ${imports.join(', ')}; expected only env.memory`);
  console.log(`built ${file} (${bytes.length} bytes)`);
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, '.gitignore'), '*\n');
await build('shared', ['--sharedMemory']);
await build('private', []);
