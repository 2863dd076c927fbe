// Publishing checks and the pack/install smoke test, as vitest tests so CI counts them.
// Everything slow (build if stale, pnpm pack, publint, attw, npm install, node probes, tsc) starts
// once in beforeAll and runs concurrently; each test asserts on its own part of the result.
// The same code runs standalone: node scripts/check-packages.mjs, node scripts/smoke-pack.mjs.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attw,
  bareImports,
  ensureBuilt,
  importProblems,
  listPackages,
  mapLimit,
  packAll,
  publint,
  type CheckResult,
} from '../scripts/check-packages.mjs';
import {
  loadAll,
  loadProblems,
  makeSmokeDir,
  npmInstall,
  peersToInstall,
  typeCheck,
  writeTypeCheckFiles,
  type LoadResult,
} from '../scripts/smoke-pack.mjs';

const packages = listPackages();
const specifiers = packages.flatMap((p) => p.entries.map((e) => e.specifier));

interface Results {
  publint: Map<string, CheckResult>;
  attw: Map<string, CheckResult>;
  install: CheckResult;
  esm: Record<string, LoadResult>;
  cjs: Record<string, LoadResult>;
  tsc: { node16: CheckResult; nodenext: CheckResult };
}

let smokeDir: string | undefined;
let results: Promise<Results>;

async function prepare(): Promise<Results> {
  await ensureBuilt(packages);
  smokeDir = makeSmokeDir();
  const consumer = join(smokeDir, 'consumer');
  const tarballs = await packAll(packages, join(smokeDir, 'packs'));

  const lint = mapLimit(packages, async (p) => {
    const [pl, at] = await Promise.all([publint(tarballs.get(p.name)!), attw(p.dir)]);
    return [p.name, pl, at] as const;
  });
  const smoke = (async () => {
    const peers = [...peersToInstall(packages)].map(([n, v]) => `${n}@${v}`);
    const install = await npmInstall(consumer, [...tarballs.values(), ...peers]);
    const failed = { ok: false, output: 'npm install of the tarballs failed (see the install test)' };
    if (!install.ok) {
      const error = { error: failed.output };
      const none = Object.fromEntries(specifiers.map((s) => [s, error]));
      return { install, esm: none, cjs: none, tsc: { node16: failed, nodenext: failed } };
    }
    writeTypeCheckFiles(consumer, packages);
    const [esm, cjs, node16, nodenext] = await Promise.all([
      loadAll(consumer, specifiers, 'esm'),
      loadAll(consumer, specifiers, 'cjs'),
      typeCheck(consumer, 'node16'),
      typeCheck(consumer, 'nodenext'),
    ]);
    return { install, esm, cjs, tsc: { node16, nodenext } };
  })();

  const [linted, smoked] = await Promise.all([lint, smoke]);
  return {
    publint: new Map(linted.map(([name, pl]) => [name, pl])),
    attw: new Map(linted.map(([name, , at]) => [name, at])),
    ...smoked,
  };
}

beforeAll(() => {
  results = prepare();
  results.catch(() => {}); // reported by every test that awaits it
});

afterAll(() => {
  if (smokeDir && !process.env.GPT_KEEP_SMOKE) rmSync(smokeDir, { recursive: true, force: true });
});

describe.each(packages.map((p) => [p.name, p] as const))('%s', (name, p) => {
  it('publint --strict passes on the pnpm tarball', async () => {
    const r = (await results).publint.get(name)!;
    expect(r.ok, r.output).toBe(true);
  });

  it('attw passes for every entry and resolution mode', async () => {
    const r = (await results).attw.get(name)!;
    expect(r.ok, r.output).toBe(true);
  });

  it('imports only declared dependencies; the main entry needs no optional peer', async () => {
    await results; // built
    expect(importProblems(p).problems).toEqual([]);
  });
});

describe('tarballs installed together with npm in a fresh folder', () => {
  it('npm install succeeds', async () => {
    const r = (await results).install;
    expect(r.ok, r.output).toBe(true);
  });

  it.each(specifiers)('%s has the same named exports via ESM import and CJS require', async (spec) => {
    const r = await results;
    expect(loadProblems(spec, r.esm[spec], r.cjs[spec])).toEqual([]);
  });

  it.each(['node16', 'nodenext'] as const)('tsc --module %s type-checks ESM and CJS consumers', async (mode) => {
    const r = (await results).tsc[mode];
    expect(r.ok, r.output).toBe(true);
  });
});

// The checks themselves must be able to fail.
describe('packaging checks detect problems', () => {
  it('loadProblems flags a throwing import, an empty module and an ESM/CJS mismatch', () => {
    expect(loadProblems('x', { keys: ['a'] }, { keys: ['a'] })).toEqual([]);
    expect(loadProblems('x', { error: 'boom' }, { keys: ['a'] })).toHaveLength(1);
    expect(loadProblems('x', { keys: [] }, { keys: [] })).toHaveLength(2);
    expect(loadProblems('x', { keys: ['a', 'b'] }, { keys: ['a'] })[0]).toMatch(/only ESM: \[b\]/);
  });

  it('bareImports separates static imports (through chunks) from dynamic ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-bare-'));
    try {
      writeFileSync(join(dir, 'chunk.js'), 'import { x } from "ndarray";\nexport const y = x;\n');
      writeFileSync(
        join(dir, 'index.js'),
        [
          'import {',
          '  y',
          '} from "./chunk.js";',
          'import "node:fs";',
          'export * from "@scope/pkg/sub";',
          'export const s = "not-an-import";',
          'const load = () => import("webgpu");',
          '',
        ].join('\n'),
      );
      const found = bareImports(join(dir, 'index.js'));
      expect(found.statics.sort()).toEqual(['@scope/pkg', 'ndarray']);
      expect(found.dynamics).toEqual(['webgpu']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
