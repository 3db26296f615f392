// The loaded part of a thread's items: no DOM, no network (tested in Node).
//
// A thread can hold 50,000 items; the page loads only pages of them: the
// tail (from the live subscription), pages before it as the user scrolls
// up (`items.list` with `before_seq`), and pages around an item opened from
// a search hit (`before_seq` and `from_seq`). Besides the items, the window
// keeps which `seq` ranges are known to be complete ("covered"): between two
// loaded items that no covered range spans there may be items not loaded
// yet, shown as a gap row that loads them when it scrolls into view.

const INF = Number.POSITIVE_INFINITY;

export class ItemWindow {
  constructor() {
    this.clear();
  }

  clear() {
    this.items = [];          // sorted by (seq, id)
    this.byId = new Map();
    this.covered = [];        // sorted, merged [lo, hi] seq ranges, inclusive
  }

  get size() {
    return this.items.length;
  }

  /** Insert or replace items by id; returns the ids that changed. */
  upsert(items) {
    const changed = [];
    for (const item of items) {
      const old = this.byId.get(item.id);
      if (old) {
        if (old.revision > item.revision) continue;
        if (old.seq === item.seq) {
          this.items[this.position(old)] = item;
        } else {
          this.items.splice(this.position(old), 1);
          this.items.splice(this.insertionPoint(item), 0, item);
        }
      } else {
        this.items.splice(this.insertionPoint(item), 0, item);
      }
      this.byId.set(item.id, item);
      changed.push(item.id);
    }
    return changed;
  }

  /** Mark [lo, hi] as complete (every item in it is loaded). */
  cover(lo, hi) {
    if (lo > hi) return;
    const out = [];
    let placed = false;
    for (const [a, b] of this.covered) {
      if (b + 1 < lo) out.push([a, b]);
      else if (hi + 1 < a) {
        if (!placed) { out.push([lo, hi]); placed = true; }
        out.push([a, b]);
      } else {
        lo = Math.min(lo, a);
        hi = Math.max(hi, b);
      }
    }
    if (!placed) out.push([lo, hi]);
    this.covered = out;
  }

  /** True when no unloaded item can sit strictly between seqs a and b. */
  spans(a, b) {
    return this.covered.some(([lo, hi]) => lo <= a && b <= hi);
  }

  /** A snapshot of the last `tail` items (the subscription's). */
  applyTail(items, tail) {
    this.upsert(items);
    if (items.length < tail) this.cover(-INF, INF);
    else this.cover(items[0].seq, INF);
  }

  /** A page of `items.list` with `before_seq` and `limit`. */
  applyBefore(beforeSeq, items, limit) {
    this.upsert(items);
    const lo = items.length < limit ? -INF : items[0].seq;
    this.cover(lo, beforeSeq - 1);
  }

  /** A page of `items.list` with `from_seq` and `limit`. */
  applyAfter(fromSeq, items, limit) {
    this.upsert(items);
    const hi = items.length < limit ? INF : items[items.length - 1].seq;
    this.cover(fromSeq, hi);
  }

  /**
   * The rows to show: items, with a gap row wherever items may be missing:
   * {type: "gap", key, before: item|null, after: item|null} where `before`
   * is the loaded item above the gap and `after` the one below it.
   */
  rows() {
    const rows = [];
    let prev = null;
    for (const item of this.items) {
      const from = prev ? prev.seq : -INF;
      if (!this.spans(from, item.seq)) {
        rows.push({ type: "gap", key: `gap:${item.id}`, before: prev, after: item });
      }
      rows.push({ type: "item", key: item.id, item });
      prev = item;
    }
    if (prev && !this.spans(prev.seq, INF)) {
      rows.push({ type: "gap", key: "gap:end", before: prev, after: null });
    }
    return rows;
  }

  has(seq) {
    return this.covered.some(([lo, hi]) => lo <= seq && seq <= hi);
  }

  position(item) {
    const i = this.insertionPoint(item);
    if (this.items[i] && this.items[i].id === item.id) return i;
    return this.items.findIndex((x) => x.id === item.id);
  }

  insertionPoint(item) {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.items[mid];
      if (m.seq < item.seq || (m.seq === item.seq && m.id < item.id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
