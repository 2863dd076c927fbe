// Publishing checks for every package in packages/*:
//   - publint --strict on the tarball that `pnpm pack` produces (what `pnpm publish` uploads);
//   - @arethetypeswrong/cli (`attw --pack <dir>`), every entry point, every resolution mode;
//   - a scan of the built ESM entries: every bare import is a declared dependency or peer, and a
//     main entry ('.') never statically imports an optional peer (the main entry installs small).
// Builds stale packages first (dist older than src, package.json or tsup.config.ts).
//
// Usage: node scripts/check-packages.mjs
// The same functions back test/packaging.test.ts (the "tooling" vitest project).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PNPM = ['--yes', 'pnpm@12.4.2'];
const BIN = join(ROOT, 'node_modules', '.bin');

/**
 * @typedef {{ subpath: string, specifier: string, name: string }} Entry
 *   subpath: the exports key ('.', './data'); specifier: what a consumer imports ('@gpt/nn/data');
 *   name: the tsup entry name ('index', 'data').
 * @typedef {{ dir: string, name: string, version: string, pkg: any, entries: Entry[] }} Package
 * @typedef {{ ok: boolean, output: string }} CheckResult
 */

/**
 * Every workspace package under packages/, with its exported entry points.
 * @returns {Package[]}
 */
export function listPackages() {
  const base = join(ROOT, 'packages');
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(base, d.name, 'package.json')))
    .map((d) => {
      const dir = join(base, d.name);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      const entries = Object.entries(pkg.exports ?? {})
        .filter(([subpath, target]) => typeof target === 'object' && !subpath.includes('*'))
        .map(([subpath, target]) => {
          const src = /** @type {any} */ (target)['@gpt/source'];
          // tsup entry name = path under src/ without .ts ('index', 'data'); dist/<name>.{js,cjs,d.ts,d.cts}
          const name = typeof src === 'string' ? src.replace(/^\.\/src\//, '').replace(/\.ts$/, '') : 'index';
          return { subpath, specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`, name };
        });
      return { dir, name: pkg.name, version: pkg.version, pkg, entries };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Environment for child processes: drops what `pnpm run` / npm scripts inject (npm_config_local_prefix
 * would make npm install into the workspace root, NODE_OPTIONS may carry loader flags), keeps
 * registry, cache and proxy settings.
 * @param {Record<string, string>} [extra]
 */
export function cleanEnv(extra = {}) {
  const keep = /^npm_config_(registry|cache|cafile|ca|strict_ssl|https?_proxy|proxy|noproxy|no_proxy|userconfig|globalconfig|offline|prefer_offline)$/i;
  /** @type {Record<string, string>} */
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (/^npm_/i.test(k) && !keep.test(k)) continue;
    if (/^pnpm_/i.test(k) || k === 'NODE_OPTIONS' || k === 'INIT_CWD') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Runs a command; never rejects. Output is stdout and stderr interleaved.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ cwd?: string, env?: Record<string, string>, timeoutMs?: number }} [opts]
 * @returns {Promise<{ code: number | null, output: string, stdout: string, ms: number }>}
 */
export function run(cmd, args, opts = {}) {
  const start = Date.now();
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: opts.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 180_000,
    });
    let output = '';
    let stdout = '';
    child.stdout.on('data', (b) => {
      output += b;
      stdout += b;
    });
    child.stderr.on('data', (b) => (output += b));
    child.on('error', (err) => {
      output += `\n${err.stack ?? err}`;
    });
    child.on('close', (code, signal) => {
      if (signal) output += `\n(killed by ${signal})`;
      resolve({ code: signal ? null : code, output, stdout, ms: Date.now() - start });
    });
  });
}

/**
 * Runs async jobs with at most `limit` in flight.
 * @template T, R
 * @param {T[]} items
 * @param {(item: T) => Promise<R>} fn
 * @param {number} [limit]
 * @returns {Promise<R[]>}
 */
export async function mapLimit(items, fn, limit = Math.max(2, availableParallelism())) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** @param {string} path */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = 0;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

/**
 * Why a package's dist/ does not reflect its sources, or null when it is up to date.
 * @param {Package} p
 */
export function staleReason(p) {
  const inputs = Math.max(
    newestMtime(join(p.dir, 'src')),
    newestMtime(join(p.dir, 'package.json')),
    newestMtime(join(p.dir, 'tsup.config.ts')),
  );
  for (const e of p.entries) {
    for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts']) {
      const file = join(p.dir, 'dist', e.name + ext);
      if (!existsSync(file)) return `${relative(ROOT, file)} is missing`;
      if (statSync(file).mtimeMs < inputs) return `${relative(ROOT, file)} is older than the sources`;
    }
  }
  return null;
}

/**
 * Builds (pnpm --filter … build) every package whose dist/ is missing or stale.
 * @param {Package[]} packages
 * @returns {Promise<string[]>} names rebuilt
 */
export async function ensureBuilt(packages) {
  const stale = packages.filter((p) => staleReason(p) !== null);
  if (stale.length === 0) return [];
  const filters = stale.flatMap((p) => ['--filter', p.name]);
  const r = await run('npx', [...PNPM, ...filters, 'build'], { timeoutMs: 600_000 });
  if (r.code !== 0) throw new Error(`pnpm build failed for ${stale.map((p) => p.name).join(', ')}:\n${r.output}`);
  // Only presence is re-checked: in a working tree someone may be editing src/ meanwhile.
  const missing = stale.flatMap((p) =>
    p.entries.flatMap((e) =>
      ['.js', '.cjs', '.d.ts', '.d.cts']
        .map((ext) => join(p.dir, 'dist', e.name + ext))
        .filter((f) => !existsSync(f))
        .map((f) => relative(ROOT, f)),
    ),
  );
  if (missing.length) throw new Error(`pnpm build did not write ${missing.join(', ')}`);
  return stale.map((p) => p.name);
}

/**
 * `pnpm pack` for every package into `dest` (workspace:^ ranges become real versions).
 * @param {Package[]} packages
 * @param {string} dest
 * @returns {Promise<Map<string, string>>} package name → tarball path
 */
export async function packAll(packages, dest) {
  const r = await run('npx', [...PNPM, '-r', '--filter', './packages/*', 'pack', '--pack-destination', dest]);
  if (r.code !== 0) throw new Error(`pnpm pack failed:\n${r.output}`);
  const tarballs = new Map();
  for (const p of packages) {
    const file = join(dest, `${p.name.replace(/^@/, '').replace('/', '-')}-${p.version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm pack did not write ${file}:\n${r.output}`);
    tarballs.set(p.name, file);
  }
  return tarballs;
}

/**
 * publint --strict on a packed tarball (warnings count as failures).
 * @param {string} tarball
 * @returns {Promise<CheckResult>}
 */
export async function publint(tarball) {
  const r = await run(join(BIN, 'publint'), ['run', tarball, '--strict']);
  return { ok: r.code === 0, output: r.output };
}

/**
 * Are the Types Wrong, strict profile (node10, node16 CJS/ESM, bundler), on `npm pack <dir>`.
 * @param {string} dir
 * @returns {Promise<CheckResult>}
 */
export async function attw(dir) {
  const r = await run(join(BIN, 'attw'), ['--pack', dir, '--format', 'ascii', '--no-color']);
  return { ok: r.code === 0, output: r.output };
}

/**
 * Bare specifiers a bundled ESM entry loads: `statics` through top-level import/export … from
 * (following its relative imports, e.g. tsup's shared chunks), `dynamics` only through import().
 * @param {string} file
 */
export function bareImports(file) {
  const statics = new Set();
  const dynamics = new Set();
  /** @type {Set<string>} */
  const seen = new Set();
  /** @param {string} f @param {boolean} isStatic */
  const visit = (f, isStatic) => {
    const key = `${isStatic}:${f}`;
    if (seen.has(key) || !existsSync(f)) return;
    seen.add(key);
    const code = readFileSync(f, 'utf8');
    const found = [
      ...[...code.matchAll(/^\s*import\s*["']([^"']+)["']/gm)].map((m) => [m[1], isStatic]),
      ...[...code.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/gm)].map((m) => [m[1], isStatic]),
      ...[...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => [m[1], false]),
    ];
    for (const [spec, st] of /** @type {[string, boolean][]} */ (found)) {
      if (spec.startsWith('.')) visit(join(dirname(f), spec), st);
      else if (!spec.startsWith('/') && !isBuiltin(spec)) (st ? statics : dynamics).add(packageOf(spec));
    }
  };
  visit(file, true);
  for (const s of statics) dynamics.delete(s);
  return { statics: [...statics], dynamics: [...dynamics] };
}

/** @param {string} specifier */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Checks the bare imports of every built ESM entry against package.json. Returns problems (empty
 * when fine) and the optional peers that subpath entries import statically (the smoke test
 * installs those next to the tarballs).
 * @param {Package} p
 */
export function importProblems(p) {
  const deps = p.pkg.dependencies ?? {};
  const peers = p.pkg.peerDependencies ?? {};
  const optional = (/** @type {string} */ n) => Boolean(p.pkg.peerDependenciesMeta?.[n]?.optional);
  /** @type {string[]} */
  const problems = [];
  /** @type {Map<string, string>} */
  const peersToInstall = new Map();
  for (const e of p.entries) {
    const file = join(p.dir, 'dist', `${e.name}.js`);
    if (!existsSync(file)) {
      problems.push(`${e.specifier}: ${relative(ROOT, file)} missing (not built?)`);
      continue;
    }
    const { statics, dynamics } = bareImports(file);
    for (const dep of [...statics, ...dynamics]) {
      if (!(dep in deps) && !(dep in peers)) {
        problems.push(`${e.specifier} imports '${dep}', which is neither a dependency nor a peer dependency`);
      }
    }
    for (const dep of statics) {
      if (!(dep in peers)) continue;
      if (e.subpath === '.' && optional(dep)) {
        problems.push(
          `${e.specifier} (the main entry) statically imports the optional peer '${dep}': ` +
            'load it with a dynamic import() or move it behind a subpath',
        );
      }
      peersToInstall.set(dep, p.pkg.devDependencies?.[dep] ?? peers[dep]);
      // A TypeScript consumer of that entry installs the peer's types as well.
      const types = `@types/${dep.startsWith('@') ? dep.slice(1).replace('/', '__') : dep}`;
      const typesRange = p.pkg.devDependencies?.[types] ?? peers[types];
      if (typesRange) peersToInstall.set(types, typesRange);
    }
  }
  return { problems, peersToInstall };
}

async function main() {
  const packages = listPackages();
  const built = await ensureBuilt(packages);
  if (built.length) console.log(`built: ${built.join(', ')}`);
  const dest = mkdtempSync(join(tmpdir(), 'gpt-pack-'));
  let failed = 0;
  try {
    const tarballs = await packAll(packages, dest);
    const results = await mapLimit(packages, async (p) => {
      const [pl, at] = await Promise.all([publint(/** @type {string} */ (tarballs.get(p.name))), attw(p.dir)]);
      return { p, pl, at, imports: importProblems(p).problems };
    });
    for (const { p, pl, at, imports } of results) {
      const ok = pl.ok && at.ok && imports.length === 0;
      if (!ok) failed++;
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${p.name}  publint:${pl.ok ? 'ok' : 'FAIL'} attw:${at.ok ? 'ok' : 'FAIL'} imports:${imports.length ? 'FAIL' : 'ok'}`);
      if (!pl.ok) console.log(pl.output);
      if (!at.ok) console.log(at.output);
      for (const line of imports) console.log(`  ${line}`);
    }
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
  console.log(failed ? `${failed} package(s) failed the publishing checks` : 'all packages pass publint and attw');
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
