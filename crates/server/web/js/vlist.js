// A virtual list with rows of varying height: only the rows in (and near)
// the viewport are in the DOM, whatever the number of rows. Heights start
// as estimates and are measured once rendered (and again when a row resizes,
// e.g. a <details> opens); offsets are prefix sums over them.
//
// Keeping the view steady: when rows are inserted or re-measured above the
// viewport, the first visible row keeps its place on screen ("anchor").
// When the list was scrolled to the bottom, it stays at the bottom
// (`stickToBottom`), so a growing thread follows its newest item.

const OVERSCAN_PX = 600;
const CACHE_ROWS = 400;

export class VirtualList {
  /**
   * @param scroller element with overflow:auto
   * @param opts.render (row) => Node, called when a row becomes visible
   * @param opts.key (row) => string, stable identity
   * @param opts.estimate (row) => px before measuring
   * @param opts.stickToBottom follow the end while at the end
   * @param opts.anchorable (row) => bool: rows that may serve as the anchor
   *   (not placeholders that vanish when what they stand for arrives)
   * @param opts.anchorAtTop keep the first row in place even when scrolled to
   *   the very top (rows arriving above stay above); otherwise a list at the
   *   top shows rows inserted at the top
   */
  constructor(scroller, { render, key, estimate, stickToBottom = false, anchorable = () => true, anchorAtTop = false }) {
    this.scroller = scroller;
    this.renderRow = render;
    this.keyOf = key;
    this.estimate = estimate;
    this.stickToBottom = stickToBottom;
    this.anchorable = anchorable;
    this.anchorAtTop = anchorAtTop;
    this.rows = [];
    this.keys = [];
    this.index = new Map();    // key -> row index
    this.heights = new Map();  // key -> measured px
    this.offsets = new Float64Array(1);
    this.mounted = new Map();  // key -> element in the DOM
    this.cache = new Map();    // key -> rendered element (LRU by insertion)
    this.spacer = document.createElement("div");
    this.spacer.className = "vlist-spacer";
    scroller.append(this.spacer);
    this.frame = 0;
    this.atEnd = stickToBottom;
    this.resize = new ResizeObserver((entries) => {
      let changed = false;
      for (const e of entries) {
        const k = e.target.dataset.key;
        if (k === undefined || !this.mounted.has(k)) continue;
        const px = e.target.offsetHeight;
        if (px && px !== this.heights.get(k)) { this.heights.set(k, px); changed = true; }
      }
      if (changed) this.relayout();
    });
    this.onScroll = () => {
      this.atEnd = this.isAtEnd();
      this.schedule();
    };
    scroller.addEventListener("scroll", this.onScroll, { passive: true });
  }

  destroy() {
    cancelAnimationFrame(this.frame);
    this.scroller.removeEventListener("scroll", this.onScroll);
    this.resize.disconnect();
    this.spacer.remove();
  }

  isAtEnd() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 24;
  }

  /** Replace the rows (same keys keep their heights and rendered nodes). */
  setRows(rows) {
    const anchor = this.anchor();
    this.rows = rows;
    this.keys = rows.map(this.keyOf);
    this.index = new Map(this.keys.map((k, i) => [k, i]));
    this.computeOffsets();
    this.restore(anchor);
    this.paint();
  }

  /** Re-render the row with this key (its content changed). */
  invalidate(key) {
    this.cache.delete(key);
    const el = this.mounted.get(key);
    if (el) { this.resize.unobserve(el); el.remove(); this.mounted.delete(key); }
    this.schedule();
  }

  invalidateAll() {
    for (const k of [...this.mounted.keys()]) this.invalidate(k);
    this.cache.clear();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.paint(); });
  }

  relayout() {
    const anchor = this.anchor();
    this.computeOffsets();
    this.restore(anchor);
    this.paint();
  }

  computeOffsets() {
    const n = this.rows.length;
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      const h = this.heights.get(this.keys[i]);
      offsets[i + 1] = offsets[i] + (h === undefined ? this.estimate(this.rows[i]) : h);
    }
    this.offsets = offsets;
    this.spacer.style.height = `${offsets[n]}px`;
  }

  /** The first row at the top of the viewport and its distance from it. */
  anchor() {
    if (this.stickToBottom && this.atEnd) return { end: true };
    const top = this.scroller.scrollTop;
    if (!this.rows.length || (top <= 0 && !this.anchorAtTop)) return null;
    let i = this.find(top);
    while (i < this.rows.length && !this.anchorable(this.rows[i])) i++;
    const key = this.keys[i];
    return key === undefined ? null : { key, delta: this.offsets[i] - top };
  }

  restore(anchor) {
    if (!anchor) return;
    if (anchor.end) { this.scroller.scrollTop = this.scroller.scrollHeight; return; }
    const i = this.index.get(anchor.key);
    if (i === undefined) return;
    const top = this.offsets[i] - anchor.delta;
    if (Math.abs(this.scroller.scrollTop - top) >= 1) this.scroller.scrollTop = top;
  }

  /** Index of the row covering `y` (binary search over offsets). */
  find(y) {
    let lo = 0;
    let hi = this.rows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= y) lo = mid; else hi = mid - 1;
    }
    return Math.max(0, lo);
  }

  /** Put the rows near the viewport into the DOM, measure new ones. */
  paint() {
    const s = this.scroller;
    const n = this.rows.length;
    const wanted = new Set();
    if (n) {
      const first = this.find(Math.max(0, s.scrollTop - OVERSCAN_PX));
      const bottom = s.scrollTop + s.clientHeight + OVERSCAN_PX;
      for (let i = first; i < n && this.offsets[i] < bottom; i++) wanted.add(i);
    }
    for (const [k, el] of this.mounted) {
      const i = this.index.get(k);
      if (i === undefined || !wanted.has(i)) {
        this.resize.unobserve(el);
        el.remove();
        this.mounted.delete(k);
      }
    }
    // New rows are measured after all of them are in the DOM: reading a
    // height right after each append would lay the page out once per row.
    const added = [];
    for (const i of wanted) {
      const k = this.keys[i];
      let el = this.mounted.get(k);
      if (!el) {
        el = this.cache.get(k);
        if (el) this.cache.delete(k);
        else {
          el = document.createElement("div");
          el.className = "vrow";
          el.dataset.key = k;
          el.append(this.renderRow(this.rows[i]));
        }
        this.cache.set(k, el);
        this.spacer.append(el);
        this.mounted.set(k, el);
        this.resize.observe(el);
        added.push(el);
      }
      el.style.transform = `translateY(${this.offsets[i]}px)`;
    }
    let measured = false;
    for (const el of added) {
      const k = el.dataset.key;
      const px = el.offsetHeight;
      if (px && px !== this.heights.get(k)) { this.heights.set(k, px); measured = true; }
    }
    if (this.cache.size > CACHE_ROWS) {
      for (const k of this.cache.keys()) {
        if (this.cache.size <= CACHE_ROWS) break;
        if (!this.mounted.has(k)) this.cache.delete(k);
      }
    }
    if (measured) this.relayout();
  }

  /** Scroll so that the row with `key` is at the top (or centered). */
  scrollToKey(key, center = false) {
    const i = this.index.get(key);
    if (i === undefined) return false;
    const s = this.scroller;
    s.scrollTop = center ? this.offsets[i] - s.clientHeight / 3 : this.offsets[i];
    this.atEnd = this.isAtEnd();
    this.paint();
    // Measuring may have moved it: once more, now with real heights around.
    s.scrollTop = center ? this.offsets[i] - s.clientHeight / 3 : this.offsets[i];
    this.atEnd = this.isAtEnd();
    this.paint();
    return true;
  }

  scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.atEnd = true;
    this.paint();
  }
}
