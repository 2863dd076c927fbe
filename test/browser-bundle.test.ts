// The browser-safe entries bundle for a browser: esbuild (platform 'browser') bundles each
// from its sources and the test fails on any Node built-in it reaches (node:*, fs, path,
// zlib, crypto, worker_threads, url, module...), naming the import and the file that made
// it. Node-only code lives behind the "node" entries (@gpt/checkpoints/node,
// @gpt/nn/data-node, @gpt/tensor/webgpu-node). Prints each bundle's minified and gzip size.
// Sources, not dist/: the check needs no build, and the dist bundles come from the same
// import graph (tsup bundles these sources); dist/ only adds the inlined WASM kernels.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Entries that must run in a browser: specifier -> source file. */
const BROWSER_ENTRIES: Record<string, string> = {
  '@gpt/tensor': 'packages/tensor/src/index.ts',
  '@gpt/tensor/webgpu': 'packages/tensor/src/webgpu.ts',
  '@gpt/nn': 'packages/nn/src/index.ts',
  '@gpt/nn/data': 'packages/nn/src/data.ts',
  '@gpt/diffusion': 'packages/diffusion/src/index.ts',
  '@gpt/checkpoints': 'packages/checkpoints/src/index.ts',
};

/** Minified bundles above this are a mistake (a data set or a Node polyfill pulled in), not growth. */
const MAX_GZIP_BYTES = 256 * 1024;

export interface BundleReport {
  /** Node built-ins reached: "<import> imported by <file> (<kind>)". */
  nodeImports: string[];
  bytes: number;
  gzipBytes: number;
}

/** Records every Node built-in the bundle reaches (kept external, so all of them are listed). */
function nodeBuiltinCatcher(found: string[]): Plugin {
  return {
    name: 'node-builtin-catcher',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!isBuiltin(args.path)) return undefined;
        found.push(`'${args.path}' imported by ${relative(ROOT, args.importer)} (${args.kind})`);
        return { path: args.path, external: true };
      });
    },
  };
}

/** Bundles `file` as a browser would get it (the workspace sources through "@gpt/source"). */
export async function bundleForBrowser(file: string): Promise<BundleReport> {
  const nodeImports: string[] = [];
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['@gpt/source'],
    logLevel: 'silent',
    plugins: [nodeBuiltinCatcher(nodeImports)],
  });
  const code = result.outputFiles[0]!.contents;
  return { nodeImports: [...new Set(nodeImports)], bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
}

const sizes: string[] = [];
afterAll(() => {
  console.log(`browser bundles (esbuild, minified ESM, from src/):\n${sizes.join('\n')}`);
});

describe('browser-safe entries bundle for the browser without Node built-ins', () => {
  it.each(Object.entries(BROWSER_ENTRIES))('%s', async (specifier, file) => {
    const report = await bundleForBrowser(join(ROOT, file));
    sizes.push(`  ${specifier.padEnd(20)} ${(report.bytes / 1024).toFixed(1).padStart(7)} KiB  gzip ${(report.gzipBytes / 1024).toFixed(1).padStart(6)} KiB`);
    expect(report.nodeImports, `${specifier} (${file}) reaches Node built-ins`).toEqual([]);
    expect(report.gzipBytes).toBeLessThan(MAX_GZIP_BYTES);
  });
});

describe('the check can fail', () => {
  it('names a Node built-in reached through another file, and the file that imported it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-browser-bundle-'));
    try {
      writeFileSync(join(dir, 'entry.ts'), "export { readBytes } from './reader.js';\n");
      writeFileSync(
        join(dir, 'reader.ts'),
        "import { readFile } from 'node:fs/promises';\nimport { join } from 'path';\nexport const readBytes = (d: string) => readFile(join(d, 'x'));\nexport const z = () => import('zlib');\n",
      );
      const report = await bundleForBrowser(join(dir, 'entry.ts'));
      const where = relative(ROOT, join(dir, 'reader.ts'));
      expect(report.nodeImports.sort()).toEqual(
        [`'node:fs/promises' imported by ${where} (import-statement)`, `'path' imported by ${where} (import-statement)`, `'zlib' imported by ${where} (dynamic-import)`].sort(),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
