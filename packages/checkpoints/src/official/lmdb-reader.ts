// A read-only reader for LMDB data files, format versions 1 (LMDB 0.9, 64-bit builds:
// py-lmdb and thus the official G.pt datasets) and 2 (LMDB 1.0: what the `lmdb` npm
// package writes), written from the on-disk structures in liblmdb's mdb.c.
//
// Why our own reader for both, and not the native `lmdb` package for format 2: LMDB
// maps the file and follows its pointers without checking them, so a patched or
// truncated file crashes the process with SIGSEGV/SIGBUS (a worker thread does not
// survive that either). Reading untrusted files through it would need a child process
// per environment; this reader instead checks every structure it follows and reads
// with bounds-checked positional reads, so a damaged file is a CheckpointFormatError
// naming it, and the native package is not needed to read at all.
//
// The two formats differ only in a few sizes (see LAYOUTS):
//   page header: pgno u64, [v2: txnid u64], pad u16, flags u16, lower u16, upper u16
//     (overflow pages: a u32 page count in place of lower/upper); then u16 node
//     offsets, relative to the page start (v1) or to the end of the header (v2)
//   node: lo u16, hi u16, flags u16, ksize u16, key, data
//     branch: child page = lo | hi << 16 | flags << 32
//     leaf:   data size = lo | hi << 16; F_BIGDATA: the data is a reference to the
//             overflow pages holding the value after their page header: the first
//             page number u64 (v1), or page number, txnid and page count u64 (v2)
//   meta pages 0 and 1 (the one with the larger txnid is current), after the header:
//     magic u32, version u32, address u64, mapsize u64, free db (48 bytes, its first
//     u32 is the page size), main db (48 bytes), last_pg u64, txnid u64
//   db record: pad u32, flags u16, depth u16, branch/leaf/overflow pages u64,
//     entries u64, root u64 (all ones when empty)
//
// Linear in the file, whatever it holds: the main tree is walked once at open, every
// page at most once (a page reached twice, as in a branch graph that reuses pages, is an
// error, not a second walk), no deeper than LMDB's own cursor stack, and every value's
// overflow pages must be in the file and claimed by nobody else, so reading every value
// reads each byte of the file at most once. Allocations are pages and values, both
// bounded by the file's size.
import { CheckpointFormatError } from '../errors.js';
import { openRegularFile, type ReadHandle } from '../regular-file.js';
import { readExactly } from '../positional-read.js';
import type { LmdbStore } from './lmdb-store.js';

export const LMDB_MAGIC = 0xbeefc0de;
const NODE_HEADER = 8;
const P_BRANCH = 0x01;
const P_LEAF = 0x02;
const P_OVERFLOW = 0x04;
const P_META = 0x08;
const P_LEAF2 = 0x20;
const F_BIGDATA = 0x01;
const F_SUBDATA = 0x02;
const F_DUPDATA = 0x04;
const MDB_REVERSEKEY = 0x02;
const MDB_INTEGERKEY = 0x08;
const DUPLICATE_FLAGS = 0x04 | 0x10 | 0x20 | 0x40; // DUPSORT, DUPFIXED, INTEGERDUP, REVERSEDUP
const NO_ROOT = 0xffffffffffffffffn;
/** LMDB's CURSOR_STACK: it cannot open a deeper tree itself. */
const MAX_DEPTH = 32;
const META_RECORD = 136;
/** Default limit on one value: 256 MiB (a G.pt checkpoint of the official tasks is well under 1 MiB). */
export const DEFAULT_MAX_LMDB_VALUE_BYTES = 256 * 2 ** 20;

export interface LmdbReadOptions {
  /** Refuse the file when one value is larger than this (checked at open, before reading it). Default DEFAULT_MAX_LMDB_VALUE_BYTES. */
  maxValueBytes?: number;
}

type Handle = ReadHandle;

interface Layout {
  readonly version: 1 | 2;
  /** Page header size; the meta record and the node offset array start here. */
  readonly header: number;
  /** What node offsets (and `lower`) are relative to. */
  readonly nodeBase: number;
  /** Offset of an overflow page's u32 page count. */
  readonly overflowCountAt: number;
  /** Size of a leaf's reference to its overflow pages. */
  readonly overflowRef: number;
  readonly maxPageSize: number;
}

const LAYOUTS: Readonly<Record<1 | 2, Layout>> = {
  1: { version: 1, header: 16, nodeBase: 0, overflowCountAt: 12, overflowRef: 8, maxPageSize: 32768 },
  2: { version: 2, header: 24, nodeBase: 24, overflowCountAt: 20, overflowRef: 24, maxPageSize: 65536 },
};

/**
 * The data format version from the first bytes of a data file: the meta record (magic,
 * then version) follows a 16-byte page header in format 1 and a 24-byte one in format 2.
 * Undefined when there is no LMDB magic number at either place.
 */
export function detectLmdbVersion(head: Uint8Array): number | undefined {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  for (const metaStart of [16, 24]) {
    if (head.length >= metaStart + 8 && view.getUint32(metaStart, true) === LMDB_MAGIC) return view.getUint32(metaStart + 4, true) & 0xffff;
  }
  return undefined;
}

interface ValueLocation {
  /** Small values live in the leaf page and are copied at index time. */
  readonly inline?: Uint8Array;
  /** First overflow page and the number of pages the value spans. */
  readonly overflowPage?: number;
  readonly overflowPages?: number;
  readonly length: number;
}

interface Meta {
  readonly pageSize: number;
  readonly mainFlags: number;
  readonly depth: number;
  readonly entries: bigint;
  readonly root: bigint;
  readonly lastPage: bigint;
  readonly txnid: bigint;
}

export class LmdbReader implements LmdbStore {
  private constructor(
    readonly file: string,
    /** The data format version (1 or 2). */
    readonly version: 1 | 2,
    private readonly handle: Handle,
    private readonly pageSize: number,
    private readonly index: Map<string, ValueLocation>,
  ) {}

  /** Opens a data file (`data.mdb`) and indexes its main database; errors name the file. */
  static async open(file: string, options: LmdbReadOptions = {}): Promise<LmdbReader> {
    const maxValueBytes = options.maxValueBytes ?? DEFAULT_MAX_LMDB_VALUE_BYTES;
    if (!(Number.isSafeInteger(maxValueBytes) && maxValueBytes >= 0)) throw new RangeError(`LmdbReader.open: maxValueBytes must be a non-negative integer, got ${maxValueBytes}`);
    const handle = await openRegularFile(file, 'LMDB data file');
    try {
      const { size } = await handle.stat();
      const head = await readExactly(handle, file, 0, Math.min(size, 64));
      const version = detectLmdbVersion(head);
      if (version === undefined) throw new CheckpointFormatError(file, 'not an LMDB data file (no LMDB magic number in the first meta page)');
      if (version !== 1 && version !== 2) throw new CheckpointFormatError(file, `unsupported LMDB data format version ${version}`);
      const layout = LAYOUTS[version];
      const meta = await readCurrentMeta(handle, file, size, layout);
      const index = await indexTree(handle, file, size, meta, layout, maxValueBytes);
      return new LmdbReader(file, version, handle, meta.pageSize, index);
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
    const { header, overflowCountAt } = LAYOUTS[this.version];
    const pgno = location.overflowPage!;
    // readExactly names the file on system errors too (EIO, or EBADF after close()).
    const bytes = await readExactly(this.handle, this.file, pgno * this.pageSize, header + location.length);
    const view = new DataView(bytes.buffer);
    const fail = (problem: string): never => {
      throw new CheckpointFormatError(this.file, `corrupt LMDB: value of ${quoted(key)}: overflow page ${pgno} ${problem}`);
    };
    if (!(view.getUint16(header - 6, true) & P_OVERFLOW)) fail('is not an overflow page');
    if (view.getBigUint64(0, true) !== BigInt(pgno)) fail(`records page number ${view.getBigUint64(0, true)}`);
    const count = view.getUint32(overflowCountAt, true);
    if (count !== location.overflowPages) fail(`records ${count} pages, the value needs ${location.overflowPages}`);
    return bytes.subarray(header);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

async function readMeta(handle: Handle, file: string, offset: number, size: number, layout: Layout): Promise<Meta | null> {
  const length = layout.header + META_RECORD;
  if (offset + length > size) return null;
  const page = new DataView((await readExactly(handle, file, offset, length)).buffer);
  const m = layout.header;
  if (!(page.getUint16(layout.header - 6, true) & P_META) || page.getUint32(m, true) !== LMDB_MAGIC) return null;
  const version = page.getUint32(m + 4, true) & 0xffff;
  if (version !== layout.version) throw new CheckpointFormatError(file, `meta pages disagree on the LMDB data format version (${layout.version} and ${version})`);
  const main = m + 24 + 48; // after magic, version, address, mapsize and the free-page db
  return {
    pageSize: page.getUint32(m + 24, true),
    mainFlags: page.getUint16(main + 4, true),
    depth: page.getUint16(main + 6, true),
    entries: page.getBigUint64(main + 32, true),
    root: page.getBigUint64(main + 40, true),
    lastPage: page.getBigUint64(main + 48, true),
    txnid: page.getBigUint64(main + 56, true),
  };
}

async function readCurrentMeta(handle: Handle, file: string, size: number, layout: Layout): Promise<Meta> {
  const first = await readMeta(handle, file, 0, size, layout);
  if (!first) throw new CheckpointFormatError(file, 'not an LMDB data file (no valid meta page 0)');
  const { pageSize } = first;
  if (pageSize < 512 || pageSize > layout.maxPageSize || (pageSize & (pageSize - 1)) !== 0) {
    throw new CheckpointFormatError(file, `implausible LMDB page size ${pageSize}`);
  }
  const second = await readMeta(handle, file, pageSize, size, layout);
  const meta = second && second.txnid > first.txnid ? second : first;
  // Both meta pages record the page size; the file has one (meta page 1 was found with it).
  if (meta.pageSize !== pageSize) throw new CheckpointFormatError(file, `meta pages disagree on the page size (${pageSize} and ${meta.pageSize})`);
  if (meta.mainFlags & DUPLICATE_FLAGS) throw new CheckpointFormatError(file, 'LMDB database with duplicate keys (MDB_DUPSORT) is not supported');
  if (meta.mainFlags & (MDB_REVERSEKEY | MDB_INTEGERKEY)) {
    throw new CheckpointFormatError(file, 'LMDB database with integer or reversed keys is not supported (G.pt keys are byte strings)');
  }
  return meta;
}

/** A key for a message: quoted with control characters escaped, cut short when long. */
function quoted(key: string): string {
  return JSON.stringify(key.length > 120 ? `${key.slice(0, 120)}...` : key);
}

/** Byte-wise order with the shorter key first on a tie: LMDB's default key comparison. */
function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

async function indexTree(handle: Handle, file: string, size: number, meta: Meta, layout: Layout, maxValueBytes: number): Promise<Map<string, ValueLocation>> {
  const fail = (problem: string): never => {
    throw new CheckpointFormatError(file, `corrupt LMDB: ${problem}`);
  };
  const index = new Map<string, ValueLocation>();
  if (meta.root === NO_ROOT) {
    if (meta.entries !== 0n) fail(`an empty tree, but the meta page records ${meta.entries} entries`);
    return index;
  }
  const { pageSize } = meta;
  const { header, nodeBase, overflowRef } = layout;
  if (meta.depth < 1 || meta.depth > MAX_DEPTH) fail(`tree depth ${meta.depth} (LMDB opens 1 to ${MAX_DEPTH} levels)`);
  const filePages = BigInt(Math.floor(size / pageSize));
  const pageCount = Number(meta.lastPage + 1n < filePages ? meta.lastPage + 1n : filePages);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const checkPage = (pgno: bigint | number, what: string): number => {
    if (pgno < 2 || pgno >= pageCount) fail(`${what} points to page ${pgno}, outside pages 2 to ${pageCount - 1} of the file`);
    return Number(pgno);
  };
  // Every page the tree and the values use, as [first, count] runs, checked for overlap at the end.
  const treePages = new Set<number>();
  const claimed: [number, number][] = [];
  let previousKey: Uint8Array | undefined;

  // Depth-first, left to right, so keys come out in key order.
  const visit = async (pgno: number, level: number): Promise<void> => {
    if (treePages.has(pgno)) fail(`page ${pgno} is reached twice in the tree (a cycle or a shared page)`);
    treePages.add(pgno);
    claimed.push([pgno, 1]);
    const page = await readExactly(handle, file, pgno * pageSize, pageSize);
    const view = new DataView(page.buffer);
    if (view.getBigUint64(0, true) !== BigInt(pgno)) fail(`page ${pgno} records page number ${view.getBigUint64(0, true)}`);
    const flags = view.getUint16(header - 6, true);
    const lower = view.getUint16(header - 4, true);
    const isBranch = (flags & P_BRANCH) !== 0;
    if (isBranch === ((flags & P_LEAF) !== 0)) fail(`page ${pgno} is not a branch or leaf page (flags 0x${flags.toString(16)})`);
    if (flags & (P_LEAF2 | P_OVERFLOW | P_META)) fail(`page ${pgno} has unsupported page flags 0x${flags.toString(16)} (MDB_DUPFIXED, overflow or meta in the tree)`);
    if (isBranch && level === meta.depth) fail(`branch page ${pgno} at the leaf level ${level}`);
    if (!isBranch && level !== meta.depth) fail(`leaf page ${pgno} at level ${level}, the tree has ${meta.depth} levels`);
    const pointers = lower - (header - nodeBase); // bytes of the node offset array
    if (pointers < 0 || header + pointers > pageSize) fail(`page ${pgno} has a bad free-space bound ${lower}`);
    const count = pointers >> 1;
    const nodesStart = header + 2 * count;
    for (let i = 0; i < count; i++) {
      const at = nodeBase + view.getUint16(header + 2 * i, true);
      if (at < nodesStart || at + NODE_HEADER > pageSize) fail(`node ${i} of page ${pgno} lies outside the page`);
      const lo = view.getUint16(at, true);
      const hi = view.getUint16(at + 2, true);
      const nodeFlags = view.getUint16(at + 4, true);
      const keySize = view.getUint16(at + 6, true);
      const keyStart = at + NODE_HEADER;
      const dataStart = keyStart + keySize;
      if (dataStart > pageSize) fail(`key of node ${i} of page ${pgno} runs past the page`);
      if (isBranch) {
        const child = checkPage(lo + hi * 2 ** 16 + nodeFlags * 2 ** 32, `branch page ${pgno}`);
        await visit(child, level + 1);
        continue;
      }
      const keyBytes = page.subarray(keyStart, dataStart);
      if (keySize === 0) fail(`node ${i} of page ${pgno} has an empty key`);
      if (previousKey && compareKeys(previousKey, keyBytes) >= 0) fail(`keys out of order or repeated at node ${i} of page ${pgno}`);
      previousKey = keyBytes;
      let key: string;
      try {
        key = decoder.decode(keyBytes);
      } catch {
        return fail(`key of node ${i} of page ${pgno} is not UTF-8`);
      }
      const length = lo + hi * 2 ** 16;
      if (nodeFlags & (F_SUBDATA | F_DUPDATA)) fail(`key ${quoted(key)} holds a sub-database or duplicates (not supported)`);
      if (nodeFlags & ~F_BIGDATA) fail(`key ${quoted(key)} has unknown node flags 0x${nodeFlags.toString(16)}`);
      if (length > maxValueBytes) {
        throw new CheckpointFormatError(file, `value of ${quoted(key)} is ${length} bytes, more than the ${maxValueBytes}-byte limit (maxValueBytes)`);
      }
      if (!(nodeFlags & F_BIGDATA)) {
        if (dataStart + length > pageSize) fail(`value of ${quoted(key)} runs past page ${pgno}`);
        index.set(key, { inline: page.slice(dataStart, dataStart + length), length });
        continue;
      }
      if (dataStart + overflowRef > pageSize) fail(`overflow reference of ${quoted(key)} runs past page ${pgno}`);
      const overflowPage = checkPage(view.getBigUint64(dataStart, true), `value of ${quoted(key)}`);
      // LMDB's OVPAGES: the header and the value, in whole pages.
      const overflowPages = Math.floor((header - 1 + length) / pageSize) + 1;
      if (layout.version === 2) {
        const recorded = view.getBigUint64(dataStart + 16, true);
        if (recorded !== BigInt(overflowPages)) fail(`value of ${quoted(key)} (${length} bytes) records ${recorded} overflow pages, it needs ${overflowPages}`);
      }
      if (overflowPage + overflowPages > pageCount) fail(`value of ${quoted(key)} (${length} bytes from page ${overflowPage}) runs past the end of the file`);
      claimed.push([overflowPage, overflowPages]);
      index.set(key, { overflowPage, overflowPages, length });
    }
  };
  await visit(checkPage(meta.root, 'the root'), 1);
  if (BigInt(index.size) !== meta.entries) fail(`found ${index.size} entries, the meta page records ${meta.entries}`);
  claimed.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < claimed.length; i++) {
    const [start, pages] = claimed[i - 1]!;
    if (claimed[i]![0] < start + pages) fail(`page ${claimed[i]![0]} is used twice (by overflow values or the tree)`);
  }
  return index;
}
