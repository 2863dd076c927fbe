// LMDB files from elsewhere (issue 19): whatever a data file holds, reading it ends in
// the right data or a CheckpointFormatError naming it, in time linear in the file, and
// never in a crash (the native `lmdb` package is not used to read), a hang or a walk
// over a page graph. Damaged files are made by patching files the `lmdb` package wrote
// and by building trees page by page (helpers/lmdb-builder.ts).
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { CARTPOLE_TASK, CheckpointFormatError } from '../src/index.js';
import { OfficialDataset, lmdbDataVersion, openLmdbStore, type LmdbStore } from '../src/lmdb.js';
import { buildLmdbFile, overflowPages, type LmdbFileSpec, type LmdbVersion, type PageSpec } from './helpers/lmdb-builder.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const FIXTURES = join(import.meta.dirname, 'fixtures', 'official-lmdb');

/** Every key and value of a store. */
async function readAll(store: LmdbStore): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const key of await store.keys()) out.set(key, (await store.get(key))!);
  return out;
}

/** Opens and reads `dir` completely; returns the data or the error. */
async function outcome(dir: string): Promise<Map<string, Uint8Array> | unknown> {
  try {
    const store = await openLmdbStore(dir);
    try {
      return await readAll(store);
    } finally {
      await store.close();
    }
  } catch (error) {
    return error;
  }
}

async function expectFormatError(dir: string, message?: RegExp): Promise<CheckpointFormatError> {
  const error = await outcome(dir);
  expect(error).toBeInstanceOf(CheckpointFormatError);
  expect((error as CheckpointFormatError).file).toBe(join(dir, 'data.mdb'));
  if (message) expect((error as Error).message).toMatch(message);
  return error as CheckpointFormatError;
}

async function writeDataFile(bytes: Uint8Array): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'data.mdb'), bytes);
  return dir;
}

/** Deterministic value bytes for key i. */
const valueOf = (i: number, length: number) => Uint8Array.from({ length }, (_, j) => (i * 31 + j * 7) & 0xff);

/** A format 2 environment written by the `lmdb` package: `count` keys, some values on overflow pages. */
async function writeWithLmdbPackage(count: number, length: (i: number) => number): Promise<string> {
  const dir = await tempDir();
  const db = openLmdb({ path: dir, encoding: 'binary', keyEncoding: 'binary', noSync: true });
  db.transactionSync(() => {
    for (let i = 0; i < count; i++) db.putSync(Buffer.from(`run/${String(i).padStart(5, '0')}.pt`), Buffer.from(valueOf(i, length(i))));
  });
  await db.close();
  return dir;
}

describe('format 2 (the lmdb npm package) through our reader', () => {
  it('returns exactly what the lmdb package reads: multi-level tree, inline and overflow values, after deletes and overwrites', async () => {
    const dir = await tempDir();
    const db = openLmdb({ path: dir, encoding: 'binary', keyEncoding: 'binary', noSync: true });
    const key = (i: number) => Buffer.from(`k/${(i * 7919) % 1000}/${'x'.repeat(i % 40)}`);
    // Three transactions: the later ones free and reuse pages, as a long-lived file does.
    db.transactionSync(() => {
      for (let i = 0; i < 700; i++) db.putSync(key(i), Buffer.from(valueOf(i, i % 9 === 0 ? 5000 + 37 * i : i % 200)));
    });
    db.transactionSync(() => {
      for (let i = 0; i < 700; i += 5) db.removeSync(key(i));
    });
    db.transactionSync(() => {
      for (let i = 1; i < 700; i += 11) db.putSync(key(i), Buffer.from(valueOf(i + 1, 9000)));
    });
    const expected = new Map<string, Uint8Array>();
    for (const { key, value } of db.getRange()) expected.set(Buffer.from(key as Uint8Array).toString('utf8'), new Uint8Array(value as Uint8Array));
    await db.close();
    expect(await lmdbDataVersion(join(dir, 'data.mdb'))).toBe(2);
    const store = await openLmdbStore(dir);
    expect(await store.keys()).toEqual([...expected.keys()]);
    const actual = await readAll(store);
    await store.close();
    expect(actual.size).toBe(expected.size);
    for (const [key, value] of expected) expect(Buffer.from(actual.get(key)!).equals(Buffer.from(value)), key).toBe(true);
  });

  it('the page builder writes files the lmdb package reads the same way (so the damaged ones below are real LMDB)', async () => {
    const dir = await writeDataFile(validTree(2));
    const script = `import { open } from 'lmdb'; const db = open({ path: ${JSON.stringify(dir)}, readOnly: true, encoding: 'binary', keyEncoding: 'binary' });
      const out = []; for (const { key, value } of db.getRange()) out.push([Buffer.from(key).toString(), Buffer.from(value).toString('hex')]); console.log(JSON.stringify(out));`;
    // In a child process: if the builder were wrong, the native package could crash.
    const native = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: import.meta.dirname, encoding: 'utf8' })) as [string, string][];
    const ours = await outcome(dir);
    expect(ours).toBeInstanceOf(Map);
    expect([...(ours as Map<string, Uint8Array>)].map(([k, v]) => [k, Buffer.from(v).toString('hex')])).toEqual(native);
  });
});

/**
 * A valid two-level tree: root branch (page 2) over leaves 3 and 4; the value of "b" is
 * on overflow pages 5..7 (three pages), the others inline.
 */
function validTree(version: LmdbVersion, patch: (pages: PageSpec[], spec: LmdbFileSpec) => void = () => {}): Uint8Array {
  const big = valueOf(9, 9000);
  const pages: PageSpec[] = [
    { kind: 'branch', children: [{ key: '', child: 3 }, { key: 'c', child: 4 }] },
    { kind: 'leaf', nodes: [{ key: 'a', value: valueOf(1, 10) }, { key: 'b', overflow: { page: 5, length: big.length } }] },
    { kind: 'leaf', nodes: [{ key: 'c', value: valueOf(3, 0) }, { key: 'd', value: valueOf(4, 300) }] },
    { kind: 'overflow', value: big },
  ];
  const spec: LmdbFileSpec = { version, pages, root: 2, depth: 2, entries: 4 };
  patch(pages, spec);
  return buildLmdbFile(spec);
}

describe.each([1, 2] as const)('damaged format %i files give a CheckpointFormatError naming the file', (version) => {
  it('a valid built tree reads back exactly', async () => {
    expect(overflowPages(version, 9000)).toBe(3);
    const data = (await outcome(await writeDataFile(validTree(version)))) as Map<string, Uint8Array>;
    expect([...data.keys()]).toEqual(['a', 'b', 'c', 'd']);
    expect(data.get('b')).toEqual(valueOf(9, 9000));
    expect(data.get('c')).toEqual(new Uint8Array(0));
    expect(data.get('d')).toEqual(valueOf(4, 300));
  });

  it('a branch graph that reuses pages (8^11 root-to-leaf paths) is refused at the second visit, not walked', async () => {
    // Pages 2..12: branch pages whose 8 children are all the next page; page 13: one leaf.
    const pages: PageSpec[] = [];
    for (let level = 0; level < 11; level++) pages.push({ kind: 'branch', children: Array.from({ length: 8 }, (_, i) => ({ key: `k${i}`, child: 3 + level })) });
    pages.push({ kind: 'leaf', nodes: [{ key: 'a', value: valueOf(0, 4) }] });
    const dir = await writeDataFile(buildLmdbFile({ version, pages, root: 2, depth: 12, entries: 8 ** 11 }));
    await expectFormatError(dir, /page 13 is reached twice in the tree/);
  });

  it('a child pointing at its own page or at an ancestor is a cycle', async () => {
    await expectFormatError(await writeDataFile(validTree(version, (p) => ((p[0] as { children: { child: number }[] }).children[1]!.child = 2))), /page 2 is reached twice/);
    const selfLoop: PageSpec[] = [{ kind: 'branch', children: [{ key: '', child: 2 }] }];
    await expectFormatError(await writeDataFile(buildLmdbFile({ version, pages: selfLoop, root: 2, depth: 3, entries: 1 })), /page 2 is reached twice/);
  });

  it('page numbers outside the file, onto the meta pages, or a tree deeper than LMDB allows', async () => {
    for (const child of [0, 1, 9, 2 ** 47]) {
      await expectFormatError(await writeDataFile(validTree(version, (p) => ((p[0] as { children: { child: number }[] }).children[1]!.child = child))), /branch page 2 points to page \d+, outside pages 2 to 7/);
    }
    await expectFormatError(await writeDataFile(validTree(version, (_, s) => (s.root = 0))), /the root points to page 0/);
    await expectFormatError(await writeDataFile(validTree(version, (_, s) => (s.depth = 40))), /tree depth 40/);
    // The current meta page (1: larger txnid) with another page size, 0 here, than meta page 0.
    const zeroPageSize = validTree(version);
    new DataView(zeroPageSize.buffer).setUint32(4096 + (version === 1 ? 16 : 24) + 24, 0, true);
    await expectFormatError(await writeDataFile(zeroPageSize), /meta pages disagree on the page size \(4096 and 0\)/);
    await expectFormatError(await writeDataFile(validTree(version, (_, s) => (s.depth = 3))), /leaf page 3 at level 2, the tree has 3 levels/);
    await expectFormatError(await writeDataFile(validTree(version, (_, s) => (s.entries = 5))), /found 4 entries, the meta page records 5/);
  });

  it('overflow values: shared pages, pages of the tree, past the end of the file, a wrong recorded page count', async () => {
    const leaf = (p: PageSpec[]) => (p[2] as { nodes: { key: string; value?: Uint8Array; overflow?: { page: number; length: number; pages?: number } }[] }).nodes;
    // "d" reuses the pages of "b": reading every value would read them twice.
    await expectFormatError(await writeDataFile(validTree(version, (p) => (leaf(p)[1] = { key: 'd', overflow: { page: 5, length: 9000 } }))), /page 5 is used twice/);
    await expectFormatError(await writeDataFile(validTree(version, (p) => (leaf(p)[1] = { key: 'd', overflow: { page: 3, length: 100 } }))), /page 3 is used twice/);
    const overflowOf = (length: number) => validTree(version, (p) => (leaf(p)[1] = { key: 'd', overflow: { page: 6, length } }));
    await expectFormatError(await writeDataFile(overflowOf(3 * 4096)), /value of "d" \(12288 bytes from page 6\) runs past the end of the file/);
    await expectFormatError(await writeDataFile(overflowOf(2 ** 32 - 1)), /value of "d" is 4294967295 bytes, more than the 268435456-byte limit/);
    if (version === 2) {
      await expectFormatError(await writeDataFile(validTree(version, (p) => (leaf(p)[1] = { key: 'd', overflow: { page: 5, length: 9000, pages: 2 ** 40 } }))), /records 1099511627776 overflow pages, it needs 3/);
    }
    // A value larger than the caller allows is refused at open, before it is read.
    const valid = await writeDataFile(validTree(version));
    await expect(openLmdbStore(valid, { maxValueBytes: 8999 })).rejects.toThrow(/value of "b" is 9000 bytes, more than the 8999-byte limit \(maxValueBytes\)/);
    const inlineOnly = validTree(version, (p) => {
      (p[1] as { nodes: { key: string; value?: Uint8Array }[] }).nodes[1] = { key: 'b', value: valueOf(2, 5) };
      p.pop(); // no overflow pages
    });
    await expect(openLmdbStore(await writeDataFile(inlineOnly), { maxValueBytes: 299 })).rejects.toThrow(/value of "d" is 300 bytes, more than the 299-byte limit/);
    await (await openLmdbStore(valid, { maxValueBytes: 9000 })).close();
    // The overflow page itself claims another length, or is not an overflow page.
    const bytes = validTree(version);
    new DataView(bytes.buffer).setUint32(5 * 4096 + (version === 1 ? 12 : 20), 70000, true);
    const error = await expectFormatError(await writeDataFile(bytes), /overflow page 5 records 70000 pages, the value needs 3/);
    expect(error.message).toContain('"b"');
  });

  it('keys out of order, repeated, empty or not UTF-8; unknown node and page flags', async () => {
    const leaf = (p: PageSpec[], i: number) => (p[i] as { nodes: { key: string; value?: Uint8Array }[] }).nodes;
    await expectFormatError(await writeDataFile(validTree(version, (p) => (leaf(p, 2)[0]!.key = 'a'))), /keys out of order or repeated at node 0 of page 4/);
    await expectFormatError(await writeDataFile(validTree(version, (p) => (leaf(p, 1)[0]!.key = ''))), /node 0 of page 3 has an empty key/);
    const bytes = validTree(version);
    const view = new DataView(bytes.buffer);
    const leafPage = 4 * 4096;
    const node0 = (version === 1 ? 0 : 24) + view.getUint16(leafPage + (version === 1 ? 16 : 24), true);
    bytes[leafPage + node0 + 8] = 0xff; // the key "c" becomes a lone 0xff byte
    await expectFormatError(await writeDataFile(bytes), /key of node 0 of page 4 is not UTF-8/);
    const subdata = validTree(version);
    new DataView(subdata.buffer).setUint16(leafPage + node0 + 4, 0x02, true); // F_SUBDATA
    await expectFormatError(await writeDataFile(subdata), /sub-database or duplicates/);
    const leaf2 = validTree(version);
    new DataView(leaf2.buffer).setUint16(3 * 4096 + (version === 1 ? 10 : 18), 0x22, true);
    await expectFormatError(await writeDataFile(leaf2), /page 3 has unsupported page flags 0x22/);
  });

  it('every truncation of a valid file', async () => {
    const bytes = validTree(version);
    for (const cut of [0, 3, 20, 100, 4095, 4096, 4096 + 200, 8191, 8192, 3 * 4096, 5 * 4096 + 100, 7 * 4096, bytes.length - 1]) {
      await expectFormatError(await writeDataFile(bytes.subarray(0, cut)));
    }
  });
});

describe('format 2 files written by the lmdb package, patched or truncated (these crashed the process with SIGSEGV/SIGBUS)', () => {
  it('patched branch pointers, overflow references and meta fields, and truncations: a typed error or the right data, never a crash', async () => {
    const dir = await writeWithLmdbPackage(400, (i) => (i % 25 === 0 ? 20000 : 100));
    const original = new Uint8Array(await readFile(join(dir, 'data.mdb')));
    const view = new DataView(original.buffer);
    const pageSize = view.getUint32(24 + 24, true);
    const pages = original.length / pageSize;
    const probes: Uint8Array[] = [];
    for (let pgno = 2; pgno < pages; pgno++) {
      const at = pgno * pageSize;
      if (view.getBigUint64(at, true) !== BigInt(pgno)) continue;
      const flags = view.getUint16(at + 18, true);
      if (!(flags & 3)) continue; // overflow pages and stale pages: not a tree page
      const count = view.getUint16(at + 20, true) >> 1;
      for (let i = 0; i < Math.min(count, 3); i++) {
        const node = at + 24 + view.getUint16(at + 24 + 2 * i, true);
        for (const value of [1, pgno, 0xffff]) {
          const bytes = original.slice();
          const patched = new DataView(bytes.buffer);
          if (flags & 1) patched.setUint16(node, value & 0xffff, true); // child page (low bits)
          else if (patched.getUint16(node + 4, true) & 1) patched.setBigUint64(node + 8 + patched.getUint16(node + 6, true), BigInt(value), true); // overflow page
          else patched.setUint16(node + 2, value & 0xffff, true); // inline length (high bits)
          probes.push(bytes);
        }
      }
    }
    for (const field of [24 + 24, 24 + 72 + 6, 24 + 72 + 40, 24 + 120]) {
      for (const meta of [0, pageSize]) {
        const bytes = original.slice();
        new DataView(bytes.buffer).setUint32(meta + field, 0xfffffff0, true);
        probes.push(bytes);
      }
    }
    for (let cut = 0; cut < original.length; cut += pageSize / 2) probes.push(original.subarray(0, cut));
    expect(probes.length).toBeGreaterThan(60);
    let clean = 0;
    for (const bytes of probes) {
      const probe = await writeDataFile(bytes);
      const result = await outcome(probe);
      if (result instanceof Map) continue;
      expect(result).toBeInstanceOf(CheckpointFormatError);
      expect((result as Error).message.startsWith(join(probe, 'data.mdb'))).toBe(true);
      clean++;
    }
    expect(clean).toBeGreaterThan(probes.length / 2);
  });
});

describe('data files that are not regular files', () => {
  it('a FIFO, a directory, /dev/zero, a dangling symlink and a symlink loop are refused by name without blocking', async () => {
    const cases: [string, (file: string) => Promise<void>, RegExp][] = [
      ['fifo', async (f) => void execFileSync('mkfifo', [f]), /LMDB data file is a FIFO \(named pipe\), not a regular file/],
      ['directory', async (f) => mkdir(f), /LMDB data file is a directory, not a regular file/],
      ['/dev/zero', async (f) => symlink('/dev/zero', f), /LMDB data file is a character device, not a regular file/],
      ['symlink loop', async (f) => symlink(f, f), /cannot open LMDB data file: it is a symlink loop/],
    ];
    for (const [, make, message] of cases) {
      const dir = await tempDir();
      const file = join(dir, 'data.mdb');
      await make(file);
      await expectFormatError(dir, message);
      await expect(lmdbDataVersion(file)).rejects.toThrow(message);
    }
    const dangling = await tempDir();
    await symlink(join(dangling, 'nowhere'), join(dangling, 'data.mdb'));
    await expectFormatError(dangling, /missing LMDB data file/);
  });

  it('an official dataset whose run holds a FIFO as data.mdb: that run fails by name, the others read', async () => {
    const root = await tempDir();
    await cp(join(FIXTURES, 'cartpole'), root, { recursive: true });
    const data = join(root, '000001', 'data.mdb');
    await rm(data);
    execFileSync('mkfifo', [data]);
    const dataset = await OfficialDataset.open(root, { task: CARTPOLE_TASK });
    await expect(dataset.readCheckpoint('000001', 0)).rejects.toThrow(`${data}: LMDB data file is a FIFO`);
    expect((await dataset.readCheckpoint('000002', 1)).length).toBe(1250);
    await dataset.close();
  });
});

describe('reads after close', () => {
  it('a get() after close() is an error naming the file, not a raw EBADF', async () => {
    const store = await openLmdbStore(await writeDataFile(validTree(1)));
    await store.close();
    await expect(store.get('b')).rejects.toThrow(CheckpointFormatError);
    await expect(store.get('b')).rejects.toThrow(/data\.mdb: .*EBADF/);
  });
});
