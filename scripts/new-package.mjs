// Writes package.json, tsconfig.json and tsup.config.ts for one workspace package.
// Usage: node scripts/new-package.mjs <dir> <description> [entry ...] [--dep @gpt/x ...]
// Kept so every package is wired the same way (exports, conditions, build).
// Re-running it keeps version, scripts, (peer/dev) dependencies and any other field it does
// not manage (bin, keywords, ...) from the existing package.json.
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, description, ...rest] = process.argv.slice(2);
const entries = [];
const deps = [];
for (let i = 0; i < rest.length; i++) {
  if (rest[i] === '--dep') deps.push(rest[++i]);
  else entries.push(rest[i]);
}
if (!entries.includes('index')) entries.unshift('index');
const root = join('packages', dir);
const name = `@gpt/${dir}`;

const exportsMap = {};
for (const entry of entries) {
  const key = entry === 'index' ? '.' : `./${entry}`;
  exportsMap[key] = {
    '@gpt/source': `./src/${entry}.ts`,
    import: { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` },
    require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
  };
}
exportsMap['./package.json'] = './package.json';

// TypeScript's legacy `moduleResolution: node10` ignores `exports`; typesVersions lets it find
// the declarations of subpath entries (attw's node10 column). Newer resolutions use `exports`.
const subpaths = entries.filter((e) => e !== 'index');
const typesVersions =
  subpaths.length > 0
    ? { '*': Object.fromEntries(subpaths.map((e) => [e, [`./dist/${e}.d.cts`]])) }
    : undefined;

const pkgPath = join(root, 'package.json');
const previous = existsSync(pkgPath) ? JSON.parse(readFileSync(pkgPath, 'utf8')) : {};
const pkg = {
  name,
  version: previous.version ?? '0.1.0',
  description,
  license: 'MIT',
  type: 'module',
  sideEffects: false,
  engines: { node: '>=20' },
  files: ['dist', 'src', 'README.md'],
  main: './dist/index.cjs',
  module: './dist/index.js',
  types: './dist/index.d.cts',
  typesVersions,
  exports: exportsMap,
  scripts: {
    build: 'tsup',
    typecheck: 'tsc --noEmit -p tsconfig.json',
    ...(previous.scripts ?? {}),
  },
  dependencies: { ...Object.fromEntries(deps.map((d) => [d, 'workspace:^'])), ...(previous.dependencies ?? {}) },
  peerDependencies: previous.peerDependencies,
  peerDependenciesMeta: previous.peerDependenciesMeta,
  devDependencies: previous.devDependencies,
  publishConfig: { access: 'public' },
};
// Fields this script does not manage survive a re-run, in their previous order after ours.
for (const [k, v] of Object.entries(previous)) if (!(k in pkg)) pkg[k] = v;
if (Object.keys(pkg.dependencies).length === 0) delete pkg.dependencies;
for (const k of Object.keys(pkg)) if (pkg[k] === undefined) delete pkg[k];
pkg.scripts.build = previous.scripts?.build ?? 'tsup'; // a package may build more first (e.g. WASM), ending in tsup
pkg.scripts.typecheck = 'tsc --noEmit -p tsconfig.json';
writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');

writeFileSync(
  join(root, 'tsconfig.json'),
  JSON.stringify({ extends: '../../tsconfig.base.json', include: ['src', 'test'] }, null, 2) + '\n',
);
// tsup.config.ts: created once; on a re-run only its `entry` map is rewritten, so
// package-specific build options (plugins, ...) survive.
const entryMap = JSON.stringify(Object.fromEntries(entries.map((e) => [e, `src/${e}.ts`])));
const tsupPath = join(root, 'tsup.config.ts');
if (existsSync(tsupPath)) {
  const config = readFileSync(tsupPath, 'utf8');
  if (!/^  entry: .*,$/m.test(config)) throw new Error(`${tsupPath}: no single-line "entry:" to update; edit it by hand`);
  writeFileSync(tsupPath, config.replace(/^  entry: .*,$/m, `  entry: ${entryMap},`));
} else {
  writeFileSync(
    tsupPath,
    `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ${entryMap},
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Shared chunks in CJS too, so every entry of a package sees the same module state.
  splitting: true,
});
`,
  );
}
