// Smoke test of the published artifacts: `pnpm pack` every package, `npm install` all tarballs
// together (plus the optional peers that subpath entries import) into a fresh folder outside the
// workspace, then for every entry point:
//   - ESM `import` and CJS `require` in plain Node (no custom conditions) expose named exports,
//     the same names both ways;
//   - `tsc` (root typescript, strict, skipLibCheck off) type-checks an .mts and a .cts consumer
//     under module node16 and nodenext, and each entry must export at least one value.
// Builds stale packages first. Usage: node scripts/smoke-pack.mjs [--keep]
// The same functions back test/packaging.test.ts (the "tooling" vitest project).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, ensureBuilt, importProblems, listPackages, packAll, ROOT, run } from './check-packages.mjs';

/**
 * @typedef {import('./check-packages.mjs').Package} Package
 * @typedef {{ keys?: string[], error?: string }} LoadResult
 */

/** A fresh folder outside the workspace, so nothing resolves from the repository's node_modules. */
export function makeSmokeDir() {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-smoke-'));
  mkdirSync(join(dir, 'packs'));
  mkdirSync(join(dir, 'consumer'));
  writeFileSync(
    join(dir, 'consumer', 'package.json'),
    JSON.stringify({ name: 'gpt-smoke-consumer', version: '0.0.0', private: true }, null, 2) + '\n',
  );
  return dir;
}

/**
 * Optional peers that subpath entries import statically, name → version range (the workspace's
 * devDependency pin when there is one).
 * @param {Package[]} packages
 */
export function peersToInstall(packages) {
  /** @type {Map<string, string>} */
  const peers = new Map();
  for (const p of packages) for (const [n, v] of importProblems(p).peersToInstall) peers.set(n, v);
  return peers;
}

/**
 * `npm install` the tarballs (and extra specs) into `consumer`; uses npm's cache first.
 * @param {string} consumer
 * @param {string[]} specs
 */
export async function npmInstall(consumer, specs) {
  const r = await run(
    'npm',
    ['install', '--prefix', consumer, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', ...specs],
    { cwd: consumer, timeoutMs: 300_000 },
  );
  return { ok: r.code === 0, output: r.output };
}

const ESM_PROBE = `
const out = {};
for (const spec of JSON.parse(process.argv[2])) {
  try { out[spec] = { keys: Object.keys(await import(spec)).sort() }; }
  catch (e) { out[spec] = { error: String(e && e.stack || e) }; }
}
process.stdout.write(JSON.stringify(out));
`;

const CJS_PROBE = `
const out = {};
for (const spec of JSON.parse(process.argv[2])) {
  try {
    const m = require(spec);
    out[spec] = { keys: Object.keys(m).filter((k) => k !== '__esModule').sort() };
  } catch (e) { out[spec] = { error: String(e && e.stack || e) }; }
}
process.stdout.write(JSON.stringify(out));
`;

/**
 * Loads every specifier in a plain `node` (no --conditions) from the consumer folder.
 * @param {string} consumer
 * @param {string[]} specifiers
 * @param {'esm' | 'cjs'} mode
 * @returns {Promise<Record<string, LoadResult>>}
 */
export async function loadAll(consumer, specifiers, mode) {
  const file = join(consumer, mode === 'esm' ? 'probe.mjs' : 'probe.cjs');
  writeFileSync(file, mode === 'esm' ? ESM_PROBE : CJS_PROBE);
  const r = await run(process.execPath, [file, JSON.stringify(specifiers)], { cwd: consumer, env: cleanEnv(), timeoutMs: 120_000 });
  try {
    return JSON.parse(r.stdout);
  } catch {
    const error = `probe exited with ${r.code}:\n${r.output}`;
    return Object.fromEntries(specifiers.map((s) => [s, { error }]));
  }
}

/**
 * Writes an ESM (.mts) and a CJS (.cts) consumer that import every entry point and require each
 * to export at least one value, plus tsconfig.<mode>.json for node16 and nodenext.
 * @param {string} consumer
 * @param {Package[]} packages
 */
export function writeTypeCheckFiles(consumer, packages) {
  const specs = packages.flatMap((p) => p.entries.map((e) => e.specifier));
  const body =
    '\n\n// Fails to compile, naming the entry, when an entry point exports no value at all.\n' +
    'type HasExports<M, S extends string> = [keyof M] extends [never] ? `${S} exports no value` : true;\n' +
    specs.map((s, i) => `export const ok${i}: HasExports<typeof m${i}, '${s}'> = true;`).join('\n') +
    '\n';
  const esm = specs.map((s, i) => `import * as m${i} from '${s}';`).join('\n') + body;
  const cjs = specs.map((s, i) => `import m${i} = require('${s}');`).join('\n') + body;
  writeFileSync(join(consumer, 'check-esm.mts'), esm);
  writeFileSync(join(consumer, 'check-cjs.cts'), cjs);
  for (const mode of ['node16', 'nodenext']) {
    const tsconfig = {
      compilerOptions: {
        module: mode,
        moduleResolution: mode,
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: ['check-esm.mts', 'check-cjs.cts'],
    };
    writeFileSync(join(consumer, `tsconfig.${mode}.json`), JSON.stringify(tsconfig, null, 2) + '\n');
  }
  return specs;
}

/**
 * Type-checks the consumer files with the workspace's typescript.
 * @param {string} consumer
 * @param {'node16' | 'nodenext'} mode
 */
export async function typeCheck(consumer, mode) {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await run(process.execPath, [tsc, '-p', `tsconfig.${mode}.json`, '--pretty', 'false'], { cwd: consumer });
  return { ok: r.code === 0, output: r.output };
}

/**
 * Problems with one specifier's ESM and CJS load results (empty when fine).
 * @param {string} spec
 * @param {LoadResult | undefined} esm
 * @param {LoadResult | undefined} cjs
 */
export function loadProblems(spec, esm, cjs) {
  const problems = [];
  for (const [how, r] of /** @type {const} */ ([['import', esm], ['require', cjs]])) {
    if (!r) problems.push(`${how}('${spec}'): no result`);
    else if (r.error) problems.push(`${how}('${spec}') threw:\n${r.error}`);
    else if (!r.keys || r.keys.length === 0) problems.push(`${how}('${spec}') has no named exports`);
  }
  if (esm?.keys && cjs?.keys && esm.keys.length && cjs.keys.length) {
    const onlyEsm = esm.keys.filter((k) => !cjs.keys?.includes(k));
    const onlyCjs = cjs.keys.filter((k) => !esm.keys?.includes(k));
    if (onlyEsm.length || onlyCjs.length) {
      problems.push(`'${spec}': ESM and CJS builds differ; only ESM: [${onlyEsm}], only CJS: [${onlyCjs}]`);
    }
  }
  return problems;
}

async function main() {
  const keep = process.argv.includes('--keep');
  const packages = listPackages();
  const built = await ensureBuilt(packages);
  if (built.length) console.log(`built: ${built.join(', ')}`);
  const dir = makeSmokeDir();
  const consumer = join(dir, 'consumer');
  /** @type {string[]} */
  const problems = [];
  try {
    const tarballs = await packAll(packages, join(dir, 'packs'));
    const peers = [...peersToInstall(packages)].map(([n, v]) => `${n}@${v}`);
    const install = await npmInstall(consumer, [...tarballs.values(), ...peers]);
    if (!install.ok) throw new Error(`npm install of the tarballs failed:\n${install.output}`);
    console.log(`installed ${tarballs.size} tarballs${peers.length ? ` + ${peers.join(' ')}` : ''} in ${consumer}`);
    const specs = writeTypeCheckFiles(consumer, packages);
    const [esm, cjs, t16, tnext] = await Promise.all([
      loadAll(consumer, specs, 'esm'),
      loadAll(consumer, specs, 'cjs'),
      typeCheck(consumer, 'node16'),
      typeCheck(consumer, 'nodenext'),
    ]);
    for (const spec of specs) {
      const found = loadProblems(spec, esm[spec], cjs[spec]);
      problems.push(...found);
      console.log(`${found.length ? 'FAIL' : 'ok  '} ${spec}  ${esm[spec]?.keys?.length ?? 0} exports`);
    }
    for (const [mode, r] of /** @type {const} */ ([['node16', t16], ['nodenext', tnext]])) {
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} tsc --module ${mode} (ESM .mts + CJS .cts consumers)`);
      if (!r.ok) problems.push(`tsc ${mode}:\n${r.output}`);
    }
  } finally {
    if (keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  for (const p of problems) console.error(`\n${p}`);
  console.log(problems.length ? `${problems.length} smoke problem(s)` : 'smoke test passed');
  process.exitCode = problems.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
