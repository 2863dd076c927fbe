// What the lmdb-v1 and lmdb-v2 fuzz targets share: reading an environment completely, and
// format-aware mutators for LMDB data files (formats 1 and 2). They find the file's pages and nodes (leniently: a file already
// mangled by an earlier mutation yields fewer of them) and aim at what a tree walker
// trusts: child page numbers (pointed at the page itself, an ancestor, a sibling's child,
// a meta page, past the end), overflow references and page counts set to extremes or
// shared between values, node offsets and key sizes, page flags, and the meta page's
// root, depth, entry count, last page and page size. The page layout is the one
// packages/checkpoints/src/official/lmdb-reader.ts documents.
import { openLmdbStore } from '../packages/checkpoints/src/lmdb.js';
import type { Mutator, Rng } from './mutators.js';

/** Opens the environment in `dir` and reads every value, as converting a run does. */
export async function readLmdbEnvironment(dir: string): Promise<void> {
  const store = await openLmdbStore(dir);
  try {
    for (const key of await store.keys()) {
      const value = await store.get(key);
      if (!value) throw new Error(`${dir}: listed key "${key}" has no value`);
    }
  } finally {
    await store.close();
  }
}

const MAGIC = 0xbeefc0de;

interface Node {
  /** Byte offset of the node header in the file. */
  readonly at: number;
  readonly flags: number;
  readonly keySize: number;
}

interface Page {
  readonly pgno: number;
  readonly at: number;
  readonly flags: number;
  readonly nodes: Node[];
}

interface Layout {
  readonly version: 1 | 2;
  readonly header: number;
  readonly nodeBase: number;
  readonly pageSize: number;
  readonly pages: Page[];
  /** Byte offset of the current meta record (the one with the larger txnid). */
  readonly meta: number;
}

const pick = <T>(rng: Rng, items: readonly T[]): T | undefined => (items.length === 0 ? undefined : items[Math.floor(rng() * items.length)]);

/** Parses what can be parsed of an LMDB file; undefined when not even its meta page is there. */
function layoutOf(bytes: Uint8Array): Layout | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let version: 1 | 2 | undefined;
  for (const [v, m] of [[1, 16], [2, 24]] as const) if (bytes.length >= m + 136 && view.getUint32(m, true) === MAGIC) version = v;
  if (!version) return undefined;
  const header = version === 1 ? 16 : 24;
  const nodeBase = version === 1 ? 0 : 24;
  const pageSize = view.getUint32(header + 24, true);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return undefined;
  let meta = header;
  if (bytes.length >= pageSize + header + 136 && view.getUint32(pageSize + header, true) === MAGIC) {
    if (view.getBigUint64(pageSize + header + 128, true) > view.getBigUint64(header + 128, true)) meta = pageSize + header;
  }
  const pages: Page[] = [];
  for (let pgno = 2; (pgno + 1) * pageSize <= bytes.length; pgno++) {
    const at = pgno * pageSize;
    if (view.getBigUint64(at, true) !== BigInt(pgno)) continue; // an overflow continuation or a stale page
    const flags = view.getUint16(at + header - 6, true);
    const nodes: Node[] = [];
    if (flags & 0x03) {
      const count = Math.max(0, view.getUint16(at + header - 4, true) - (header - nodeBase)) >> 1;
      for (let i = 0; i < count && header + 2 * i + 2 <= pageSize; i++) {
        const offset = nodeBase + view.getUint16(at + header + 2 * i, true);
        if (offset + 8 > pageSize) continue;
        nodes.push({ at: at + offset, flags: view.getUint16(at + offset + 4, true), keySize: view.getUint16(at + offset + 6, true) });
      }
    }
    pages.push({ pgno, at, flags, nodes });
  }
  return { version, header, nodeBase, pageSize, pages, meta };
}

/** A mutator that edits a copy of the file through its parsed layout (unchanged copy when nothing applies). */
function withLayout(edit: (view: DataView, layout: Layout, rng: Rng, bytes: Uint8Array) => void): Mutator {
  return (bytes, rng) => {
    const out = new Uint8Array(bytes); // a copy (Buffer#slice would be a view of the seed)
    const layout = layoutOf(out);
    if (layout) edit(new DataView(out.buffer, out.byteOffset, out.byteLength), layout, rng, out);
    return out;
  };
}

const branches = (l: Layout) => l.pages.filter((p) => p.flags & 0x01 && p.nodes.length > 0);
const overflowNodes = (l: Layout) => l.pages.filter((p) => p.flags & 0x02).flatMap((p) => p.nodes.filter((n) => n.flags & 0x01));
const allNodes = (l: Layout) => l.pages.flatMap((p) => p.nodes);

function setChild(view: DataView, node: Node, child: number): void {
  view.setUint16(node.at, child & 0xffff, true);
  view.setUint16(node.at + 2, Math.floor(child / 65536) & 0xffff, true);
  view.setUint16(node.at + 4, Math.floor(child / 2 ** 32) & 0xffff, true);
}

/** The page number a branch node points to. */
function childOf(view: DataView, node: Node): number {
  return view.getUint16(node.at, true) + view.getUint16(node.at + 2, true) * 65536 + view.getUint16(node.at + 4, true) * 2 ** 32;
}

export const LMDB_MUTATORS: Readonly<Record<string, Mutator>> = {
  /** A branch child pointed at its own page, the root, another branch page, a meta page, or far past the end. */
  childToCycle: withLayout((view, l, rng) => {
    const page = pick(rng, branches(l));
    const node = page && pick(rng, page.nodes);
    if (!page || !node) return;
    const root = Number(view.getBigUint64(l.meta + 72 + 40, true));
    const targets = [page.pgno, root, pick(rng, branches(l))!.pgno, 0, 1, l.pages.length + 2, 2 ** 47 - 1, 0xffffffff];
    setChild(view, node, pick(rng, targets)!);
  }),
  /** Every child of a branch page (or of all of them) set to the same page: a graph with exponentially many paths. */
  sharedChildren: withLayout((view, l, rng) => {
    const pages = rng() < 0.5 ? branches(l) : [pick(rng, branches(l))].filter((p) => p !== undefined);
    for (const page of pages) {
      const child = childOf(view, pick(rng, page.nodes)!);
      for (const node of page.nodes) setChild(view, node, child);
    }
  }),
  /** An overflow value's page number, length or (format 2) recorded page count set to an extreme, or to another value's pages. */
  overflowReference: withLayout((view, l, rng) => {
    const nodes = overflowNodes(l);
    const node = pick(rng, nodes);
    if (!node) return;
    const ref = node.at + 8 + node.keySize;
    if (ref + (l.version === 1 ? 8 : 24) > view.byteLength) return;
    const r = rng();
    if (r < 0.3) {
      view.setUint16(node.at, 0xffff, true); // length: up to 4 GiB
      view.setUint16(node.at + 2, pick(rng, [0xffff, 0x7fff, 0x10])!, true);
    } else if (r < 0.6) {
      const other = pick(rng, nodes)!;
      const otherRef = other.at + 8 + other.keySize;
      const page = otherRef + 8 <= view.byteLength ? view.getBigUint64(otherRef, true) : 2n;
      view.setBigUint64(ref, pick(rng, [page, page + 1n, 0n, 1n, 2n ** 32n, 2n ** 63n, 2n ** 64n - 1n])!, true);
    } else if (l.version === 2) {
      view.setBigUint64(ref + 16, pick(rng, [0n, 1n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 64n - 1n])!, true);
    } else {
      view.setBigUint64(ref, BigInt(Math.floor(rng() * (l.pages.length + 4))), true);
    }
  }),
  /** An overflow page's own page count set to an extreme. */
  overflowPageCount: withLayout((view, l, rng) => {
    const page = pick(rng, l.pages.filter((p) => p.flags & 0x04));
    if (page) view.setUint32(page.at + l.header - 4, pick(rng, [0, 1, 0xffff, 0x7fffffff, 0xffffffff])!, true);
  }),
  /** A node offset, key size or node flags set to an extreme, or a page's free-space bounds. */
  nodeFields: withLayout((view, l, rng) => {
    const node = pick(rng, allNodes(l));
    const r = rng();
    if (node && r < 0.35) view.setUint16(node.at + 6, pick(rng, [0, 1, 511, 0xfff0, 0xffff])!, true);
    else if (node && r < 0.6) view.setUint16(node.at + 4, pick(rng, [0x01, 0x02, 0x04, 0x06, 0xffff])!, true);
    else {
      const page = pick(rng, l.pages);
      if (!page) return;
      const field = pick(rng, [l.header - 4, l.header - 2, l.header + 2 * Math.floor(rng() * Math.max(1, page.nodes.length))])!;
      view.setUint16(page.at + field, pick(rng, [0, 1, 2, l.pageSize - 1, l.pageSize, 0xfffe, 0xffff])!, true);
    }
  }),
  /** A page's flags changed: branch and leaf swapped, LEAF2, overflow or meta in the tree, nothing. */
  pageFlags: withLayout((view, l, rng) => {
    const page = pick(rng, l.pages);
    if (page) view.setUint16(page.at + l.header - 6, pick(rng, [0, 0x01, 0x02, 0x03, 0x04, 0x08, 0x22, 0x40, 0xffff])!, true);
  }),
  /** The current meta page's root, depth, entries, last page, page size or flags set to another plausible or extreme value. */
  metaFields: withLayout((view, l, rng) => {
    const main = l.meta + 72;
    const r = rng();
    if (r < 0.3) view.setBigUint64(main + 40, pick(rng, [0n, 1n, 2n, BigInt(pick(rng, l.pages)?.pgno ?? 3), 2n ** 32n, 2n ** 64n - 1n, 2n ** 64n - 2n])!, true);
    else if (r < 0.5) view.setUint16(main + 6, pick(rng, [0, 1, 2, 3, 33, 0xffff])!, true);
    else if (r < 0.65) view.setBigUint64(main + 32, pick(rng, [0n, 1n, 2n ** 32n, 2n ** 63n])!, true);
    else if (r < 0.8) view.setBigUint64(main + 48, pick(rng, [0n, 1n, 2n, 2n ** 40n, 2n ** 64n - 1n])!, true);
    else if (r < 0.9) view.setUint32(l.meta + 24, pick(rng, [0, 256, 512, 1024, 8192, 65536, 131072, 0xffffffff])!, true);
    else view.setUint16(main + 4, pick(rng, [0x02, 0x04, 0x08, 0x10, 0xffff])!, true);
  }),
  /** One page copied over another (a subtree appearing twice, or a page pointing into itself). */
  copyPage: withLayout((_, l, rng, bytes) => {
    const from = pick(rng, l.pages);
    const to = pick(rng, l.pages);
    if (!from || !to || from === to) return;
    bytes.copyWithin(to.at, from.at, from.at + l.pageSize);
  }),
};
