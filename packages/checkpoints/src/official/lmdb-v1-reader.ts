// A read-only reader for LMDB data format version 1 (LMDB 0.9, 64-bit builds), written
// from the on-disk structures in liblmdb's mdb.c:
//   page header (16 bytes): pgno u64, pad u16, flags u16, lower u16, upper u16
//     (overflow pages: page count u32 in place of lower/upper); then u16 node offsets
//   node: lo u16, hi u16, flags u16, ksize u16, key, data
//     branch: child page = lo | hi << 16 | flags << 32
//     leaf:   data size = lo | hi << 16; F_BIGDATA: data is the u64 number of an
//             overflow page whose payload follows its 16-byte header
//   meta pages 0 and 1 (the one with the larger txnid is current), after the header:
//     magic u32, version u32, address u64, mapsize u64, free db (48 bytes, its first
//     u32 is the page size), main db (48 bytes), last_pg u64, txnid u64
//   db record: pad u32, flags u16, depth u16, branch/leaf/overflow pages u64,
//     entries u64, root u64 (all ones when empty)
// The main database's tree is walked once at open to index every key; values on
// overflow pages are read when asked for. Every offset is bounds-checked.
import { open } from 'node:fs/promises';
import { CheckpointFormatError } from '../errors.js';
import { readExactly } from '../positional-read.js';
import type { LmdbStore } from './lmdb-store.js';

export const LMDB_MAGIC = 0xbeefc0de;
const PAGE_HEADER = 16;
const NODE_HEADER = 8;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const P_LEAF2 = 0x20;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
const MDB_DUPSORT = 0x04;
const NO_ROOT = 0xffffffffffffffffn;

type Handle = Awaited<ReturnType<typeof open>>;

interface ValueLocation {
  /** Small values live in the leaf page and are copied at index time. */
  readonly inline?: Uint8Array;
  /** Overflow page number and payload length. */
  readonly overflowPage?: number;
  readonly length: number;
}

interface Meta {
  readonly pageSize: number;
  readonly mainFlags: number;
  readonly depth: number;
  readonly entries: number;
  readonly root: bigint;
  readonly lastPage: number;
  readonly txnid: bigint;
}

export class LmdbV1Reader implements LmdbStore {
  private constructor(
    readonly file: string,
    private readonly handle: Handle,
    private readonly pageSize: number,
    private readonly index: Map<string, ValueLocation>,
  ) {}

  static async open(file: string): Promise<LmdbV1Reader> {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const meta = await readCurrentMeta(handle, file, size);
      const index = await indexTree(handle, file, size, meta);
      return new LmdbV1Reader(file, handle, meta.pageSize, index);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async keys(): Promise<readonly string[]> {
    return [...this.index.keys()];
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const location = this.index.get(key);
    if (!location) return undefined;
    if (location.inline) return location.inline.slice();
    const start = location.overflowPage! * this.pageSize;
    const bytes = await readExactly(this.handle, this.file, start, PAGE_HEADER + location.length);
    const flags = new DataView(bytes.buffer).getUint16(10, true);
    if (!(flags & P_OVERFLOW)) throw new CheckpointFormatError(this.file, `value of "${key}": page ${location.overflowPage} is not an overflow page`);
    return bytes.subarray(PAGE_HEADER);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readMeta(handle: Handle, file: string, offset: number, size: number): Promise<Meta | null> {
  if (offset + PAGE_HEADER + 136 > size) return null;
  const page = new DataView((await readExactly(handle, file, offset, PAGE_HEADER + 136)).buffer);
  const m = PAGE_HEADER;
  if (!(page.getUint16(10, true) & P_META) || page.getUint32(m, true) !== LMDB_MAGIC) return null;
  const version = page.getUint32(m + 4, true);
  if (version !== 1) throw new CheckpointFormatError(file, `LMDB data format version ${version}, expected 1`);
  const main = m + 24 + 48; // after magic, version, address, mapsize and the free-page db
  return {
    pageSize: page.getUint32(m + 24, true),
    mainFlags: page.getUint16(main + 4, true),
    depth: page.getUint16(main + 6, true),
    entries: Number(page.getBigUint64(main + 32, true)),
    root: page.getBigUint64(main + 40, true),
    lastPage: Number(page.getBigUint64(main + 48, true)),
    txnid: page.getBigUint64(main + 56, true),
  };
}

async function readCurrentMeta(handle: Handle, file: string, size: number): Promise<Meta> {
  const first = await readMeta(handle, file, 0, size);
  if (!first) throw new CheckpointFormatError(file, 'not an LMDB data file (no valid meta page 0)');
  const { pageSize } = first;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new CheckpointFormatError(file, `implausible LMDB page size ${pageSize}`);
  const second = await readMeta(handle, file, pageSize, size);
  const meta = second && second.txnid > first.txnid ? second : first;
  if (meta.mainFlags & MDB_DUPSORT) throw new CheckpointFormatError(file, 'LMDB database with duplicate keys (MDB_DUPSORT) is not supported');
  return meta;
}

async function indexTree(handle: Handle, file: string, size: number, meta: Meta): Promise<Map<string, ValueLocation>> {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, `corrupt LMDB: ${problem}`);
  };
  const index = new Map<string, ValueLocation>();
  if (meta.root === NO_ROOT) return index;
  const { pageSize } = meta;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const pageCount = Math.min(meta.lastPage + 1, Math.floor(size / pageSize));
  const checkPage = (pgno: number, what: string): void => {
    if (!Number.isSafeInteger(pgno) || pgno < 2 || pgno >= pageCount) fail(`${what} points to page ${pgno}, outside the ${pageCount} pages of the file`);
  };

  // Depth-first, left to right, so keys come out in key order.
  const visit = async (pgno: number, level: number): Promise<void> => {
    if (level > meta.depth) fail(`tree deeper than the recorded depth ${meta.depth}`);
    const page = await readExactly(handle, file, pgno * pageSize, pageSize);
    const view = new DataView(page.buffer);
    const flags = view.getUint16(10, true);
    const lower = view.getUint16(12, true);
    if (lower < PAGE_HEADER || lower > pageSize) fail(`page ${pgno} has a bad free-space bound`);
    const count = (lower - PAGE_HEADER) >> 1;
    const isBranch = (flags & P_BRANCH) !== 0;
    if (!isBranch && !(flags & P_LEAF)) fail(`page ${pgno} is neither a branch nor a leaf page`);
    if (flags & P_LEAF2) fail(`page ${pgno} is a LEAF2 page (MDB_DUPFIXED is not supported)`);
    if (isBranch && level === meta.depth) fail(`branch page ${pgno} at the leaf level`);
    for (let i = 0; i < count; i++) {
      const at = view.getUint16(PAGE_HEADER + 2 * i, true);
      if (at < lower || at + NODE_HEADER > pageSize) fail(`node ${i} of page ${pgno} lies outside the page`);
      const lo = view.getUint16(at, true);
      const hi = view.getUint16(at + 2, true);
      const nodeFlags = view.getUint16(at + 4, true);
      const keySize = view.getUint16(at + 6, true);
      if (at + NODE_HEADER + keySize > pageSize) fail(`key of node ${i} of page ${pgno} runs past the page`);
      if (isBranch) {
        const child = lo + hi * 2 ** 16 + nodeFlags * 2 ** 32;
        checkPage(child, `branch page ${pgno}`);
        await visit(child, level + 1);
        continue;
      }
      const keyStart = at + NODE_HEADER;
      let key: string;
      try {
        key = decoder.decode(page.subarray(keyStart, keyStart + keySize));
      } catch {
        return fail(`key of node ${i} of page ${pgno} is not UTF-8`);
      }
      const length = lo + hi * 2 ** 16;
      const dataStart = keyStart + keySize;
      if (nodeFlags & (F_SUBDATA | F_DUPDATA)) fail(`key "${key}" holds a sub-database or duplicates (not supported)`);
      if (nodeFlags & F_BIGDATA) {
        if (dataStart + 8 > pageSize) fail(`overflow reference of "${key}" runs past page ${pgno}`);
        const overflowPage = Number(view.getBigUint64(dataStart, true));
        checkPage(overflowPage, `value of "${key}"`);
        if (overflowPage * pageSize + PAGE_HEADER + length > size) fail(`value of "${key}" runs past the end of the file`);
        index.set(key, { overflowPage, length });
      } else {
        if (dataStart + length > pageSize) fail(`value of "${key}" runs past page ${pgno}`);
        index.set(key, { inline: page.slice(dataStart, dataStart + length), length });
      }
    }
  };
  const root = Number(meta.root);
  checkPage(root, 'the root');
  await visit(root, 1);
  if (index.size !== meta.entries) fail(`found ${index.size} entries, the meta page records ${meta.entries}`);
  return index;
}
