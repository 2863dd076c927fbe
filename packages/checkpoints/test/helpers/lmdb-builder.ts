// Test helper: LMDB data files built page by page (formats 1 and 2), so tests can make
// trees no LMDB library would write: pages shared or cyclic, trees too deep, overflow
// values overlapping. The layout is the one lmdb-reader.ts documents; a valid file built
// here is also read by the native `lmdb` package (a test checks that), which keeps this
// builder honest.

export type LmdbVersion = 1 | 2;

export interface LeafNode {
  key: string;
  /** An inline value. */
  value?: Uint8Array;
  /** A value on overflow pages: the first page, the value length, and (format 2) the recorded page count. */
  overflow?: { page: number; length: number; pages?: number };
}

export type PageSpec =
  | { kind: 'branch'; children: { key: string; child: number }[] }
  | { kind: 'leaf'; nodes: LeafNode[] }
  /** Overflow pages holding `value`, starting at this page. */
  | { kind: 'overflow'; value: Uint8Array; pages?: number };

export interface LmdbFileSpec {
  version: LmdbVersion;
  pageSize?: number;
  /** Pages 2, 3, ... in order; an overflow spec takes as many pages as its value needs. */
  pages: PageSpec[];
  root: number;
  depth: number;
  entries: number;
}

const header = (v: LmdbVersion) => (v === 1 ? 16 : 24);
const nodeBase = (v: LmdbVersion) => (v === 1 ? 0 : 24);
const encoder = new TextEncoder();

/** LMDB's OVPAGES: pages needed for a page header plus `length` bytes. */
export function overflowPages(version: LmdbVersion, length: number, pageSize = 4096): number {
  return Math.floor((header(version) - 1 + length) / pageSize) + 1;
}

function pageHeader(view: DataView, version: LmdbVersion, pgno: number, flags: number): void {
  view.setBigUint64(0, BigInt(pgno), true);
  view.setUint16(header(version) - 6, flags, true);
}

function nodePage(version: LmdbVersion, pageSize: number, pgno: number, flags: number, nodes: Uint8Array[]): Uint8Array {
  const page = new Uint8Array(pageSize);
  const view = new DataView(page.buffer);
  pageHeader(view, version, pgno, flags);
  let upper = pageSize;
  nodes.forEach((node, i) => {
    upper -= node.length + (node.length & 1);
    if (upper < header(version) + 2 * nodes.length) throw new Error('lmdb-builder: page overflow');
    page.set(node, upper);
    view.setUint16(header(version) + 2 * i, upper - nodeBase(version), true);
  });
  view.setUint16(header(version) - 4, header(version) + 2 * nodes.length - nodeBase(version), true);
  view.setUint16(header(version) - 2, upper - nodeBase(version), true);
  return page;
}

function node(lo: number, hi: number, flags: number, key: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + key.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, lo, true);
  view.setUint16(2, hi, true);
  view.setUint16(4, flags, true);
  view.setUint16(6, key.length, true);
  out.set(key, 8);
  out.set(data, 8 + key.length);
  return out;
}

function leafNode(version: LmdbVersion, spec: LeafNode, pageSize: number): Uint8Array {
  const key = encoder.encode(spec.key);
  if (!spec.overflow) {
    const value = spec.value ?? new Uint8Array(0);
    return node(value.length & 0xffff, value.length >>> 16, 0, key, value);
  }
  const { page, length } = spec.overflow;
  const ref = new Uint8Array(version === 1 ? 8 : 24);
  const view = new DataView(ref.buffer);
  view.setBigUint64(0, BigInt(page), true);
  if (version === 2) view.setBigUint64(16, BigInt(spec.overflow.pages ?? overflowPages(version, length, pageSize)), true);
  return node(length & 0xffff, length >>> 16, 0x01, key, ref);
}

function metaPage(spec: LmdbFileSpec, pageSize: number, pgno: number, lastPage: number, txnid: number): Uint8Array {
  const page = new Uint8Array(pageSize);
  const view = new DataView(page.buffer);
  pageHeader(view, spec.version, pgno, 0x08);
  const m = header(spec.version);
  view.setUint32(m, 0xbeefc0de, true);
  view.setUint32(m + 4, spec.version, true);
  view.setBigUint64(m + 16, 1n << 20n, true); // mapsize
  view.setUint32(m + 24, pageSize, true); // free db pad = page size
  view.setBigUint64(m + 24 + 40, 0xffffffffffffffffn, true); // free db: empty
  const main = m + 24 + 48;
  view.setUint16(main + 6, spec.depth, true);
  view.setBigUint64(main + 32, BigInt(spec.entries), true);
  view.setBigUint64(main + 40, BigInt(spec.root), true);
  view.setBigUint64(main + 48, BigInt(lastPage), true);
  view.setBigUint64(main + 56, BigInt(txnid), true);
  return page;
}

/** The bytes of a data file with two identical-root meta pages (txnid 1 and 2) and `pages` from page 2. */
export function buildLmdbFile(spec: LmdbFileSpec): Uint8Array {
  const pageSize = spec.pageSize ?? 4096;
  const v = spec.version;
  const body: Uint8Array[] = [];
  for (const p of spec.pages) {
    const pgno = 2 + body.length;
    if (p.kind === 'branch') {
      body.push(nodePage(v, pageSize, pgno, 0x01, p.children.map((c, i) => node(c.child & 0xffff, Math.floor(c.child / 65536) & 0xffff, Math.floor(c.child / 2 ** 32), i === 0 ? new Uint8Array(0) : encoder.encode(c.key), new Uint8Array(0)))));
    } else if (p.kind === 'leaf') {
      body.push(nodePage(v, pageSize, pgno, 0x02, p.nodes.map((n) => leafNode(v, n, pageSize))));
    } else {
      const count = overflowPages(v, p.value.length, pageSize);
      const run = new Uint8Array(count * pageSize);
      const view = new DataView(run.buffer);
      pageHeader(view, v, pgno, 0x04);
      view.setUint32(header(v) - 4, p.pages ?? count, true);
      run.set(p.value, header(v));
      for (let i = 0; i < count; i++) body.push(run.subarray(i * pageSize, (i + 1) * pageSize));
    }
  }
  const lastPage = 1 + body.length;
  const all = [metaPage(spec, pageSize, 0, lastPage, 1), metaPage(spec, pageSize, 1, lastPage, 2), ...body];
  const out = new Uint8Array(all.length * pageSize);
  all.forEach((p, i) => out.set(p, i * pageSize));
  return out;
}
