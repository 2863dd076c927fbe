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
const outDir = join(root, 'build');

const common = [
  'assembly/index.ts',
  '--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert',
  '--runtime', 'stub',
  '--enable', 'simd', '--enable', 'threads',
  '--importMemory', '--initialMemory', '17', '--maximumMemory', '32768',
  // No abort import: the kernels take no strings and never assert at run time.
  '--use', 'abort=',
];

/** Section ids of a WASM binary (header, then id byte + LEB128 size per section). */
function sectionIds(bytes) {
  const ids = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[at++];
      size |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    ids.push(id);
    at += size;
  }
  return ids;
}

async function build(variant, extra) {
  const file = join(outDir, `kernels-${variant}.wasm`);
  const { error, stderr } = await asc.main([...common, ...extra, '--outFile', file], {});
  if (error) {
    console.error(stderr.toString());
    throw new Error(`asc failed for the ${variant} kernels: ${error.message}`);
  }
  const bytes = readFileSync(file);
  // Every worker instantiates the module over the same memory: a data segment
  // would be re-applied by each instantiation and overwrite live data.
  if (sectionIds(bytes).includes(11)) throw new Error(`${file} has a data section; the kernels must not hold static data`);
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes)).map((i) => `${i.module}.${i.name}`);
  if (imports.join() !== 'env.memory') throw new Error(`${file} imports ${imports.join(', ')}; expected only env.memory`);
  console.log(`built ${file} (${bytes.length} bytes)`);
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, '.gitignore'), '*\n');
await build('shared', ['--sharedMemory']);
await build('private', []);
