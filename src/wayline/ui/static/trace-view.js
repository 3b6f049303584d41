// The trace page's span tree and waterfall, and which span is selected.
//
// A trace may hold 50,000 spans, so the spans are fetched page by page in the background (a
// small first page, so the first rows show at once) and the tree is drawn virtualised: the rows
// are a flat list (the tree walked depth first, skipping collapsed subtrees) and only the rows in
// view, at a fixed height, exist in the DOM. Collapsing rebuilds the flat list, not the DOM.
// The selected span is in the URL (?span=<id>): clicks push a history entry, keys replace it,
// back/forward select again. Every value from the trace is set as text, never as HTML; the
// selected span's details are drawn by span-details.js.

import { el, formatNs, spanDetails } from "./span-details.js";

const ROW_HEIGHT = 24; // px; traces.css sets the same on .span-row
const OVERSCAN = 12; // rows drawn above and below the view
const FIRST_PAGE = 200; // enough to fill the view: the first rows show sooner
const PAGE = 2000;
const INDENT = 14; // px per tree level
const MAX_INDENT_LEVELS = 40; // deeper levels are drawn at this indent (the level is in aria-level)

class SpanTree {
  constructor() {
    this.spans = [];
    this.index = new Map(); // span id -> position in spans
    this.kids = [];
    this.collapsed = new Set(); // span ids
    this.visible = new Int32Array(0); // span positions in display order
    this.depth = new Int32Array(0);
    this.rowOf = new Int32Array(0); // span position -> row, -1 when hidden
    this.minStart = 0;
    this.maxEnd = 0;
  }

  add(spans) {
    for (const span of spans) {
      if (this.index.has(span.id)) continue;
      this.index.set(span.id, this.spans.length);
      this.spans.push(span);
      this.minStart = Math.min(this.minStart, span.s);
      this.maxEnd = Math.max(this.maxEnd, span.s + (span.d ?? 0));
    }
    this.link();
    this.flatten();
  }

  // Children lists from the parent ids. A span whose parent is not (yet) loaded is shown as a
  // root until its parent arrives; pages come in start order, so that is rare and brief.
  link() {
    const n = this.spans.length;
    this.kids = new Array(n);
    this.roots = [];
    for (let i = 0; i < n; i++) {
      const parent = this.spans[i].parent;
      const p = parent === null ? undefined : this.index.get(parent);
      if (p === undefined || p === i) this.roots.push(i);
      else (this.kids[p] ??= []).push(i);
    }
    // Spans only reachable through a parent cycle (foreign data) are shown as roots, not lost.
    const reached = new Uint8Array(n);
    const mark = (starts) => {
      const stack = [...starts];
      while (stack.length) {
        const i = stack.pop();
        if (reached[i]) continue;
        reached[i] = 1;
        for (const k of this.kids[i] ?? []) stack.push(k);
      }
    };
    mark(this.roots);
    for (let i = 0; i < n; i++) {
      if (reached[i]) continue;
      this.roots.push(i);
      mark([i]);
    }
  }

  flatten() {
    const n = this.spans.length;
    const visible = new Int32Array(n);
    const depth = new Int32Array(n);
    const rowOf = new Int32Array(n).fill(-1);
    const seen = new Uint8Array(n);
    let count = 0;
    const walk = (starts) => {
      const stack = [];
      for (let r = starts.length - 1; r >= 0; r--) stack.push(starts[r], 0);
      while (stack.length) {
        const d = stack.pop();
        const i = stack.pop();
        if (seen[i]) continue; // a cycle in foreign data must not loop forever
        seen[i] = 1;
        rowOf[i] = count;
        visible[count] = i;
        depth[count++] = d;
        const kids = this.kids[i];
        if (kids && !this.collapsed.has(this.spans[i].id)) {
          for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k], d + 1);
        }
      }
    };
    walk(this.roots);
    this.visible = visible.subarray(0, count);
    this.depth = depth.subarray(0, count);
    this.rowOf = rowOf;
  }

  hasKids(i) {
    return Boolean(this.kids[i]?.length);
  }

  parentOf(i) {
    const parent = this.spans[i].parent;
    return parent === null ? undefined : this.index.get(parent);
  }

  // Expands every ancestor of span i, so it has a row. Returns whether anything changed.
  reveal(i) {
    let changed = false;
    const seen = new Set();
    for (let p = this.parentOf(i); p !== undefined && !seen.has(p); p = this.parentOf(p)) {
      seen.add(p);
      changed = this.collapsed.delete(this.spans[p].id) || changed;
    }
    if (changed) this.flatten();
    return changed;
  }
}

class TraceView {
  constructor(root) {
    this.root = root;
    this.url = root.dataset.spansUrl;
    this.tree = new SpanTree();
    this.tree.maxEnd = Number(root.dataset.durationNs) || 0;
    this.selected = root.dataset.selected || null;
    this.scroller = document.getElementById("span-rows");
    this.inner = document.getElementById("span-rows-inner");
    this.details = document.getElementById("span-details");
    this.axis = document.getElementById("span-axis");
    this.count = document.getElementById("span-count");
    this.done = false;
    this.frame = 0;
    this.drawnFirst = false;
  }

  start() {
    this.scroller.addEventListener("scroll", () => this.schedule());
    window.addEventListener("resize", () => this.schedule());
    this.scroller.addEventListener("click", (event) => this.onClick(event));
    this.scroller.addEventListener("keydown", (event) => this.onKey(event));
    document.getElementById("expand-all")?.addEventListener("click", () => {
      this.tree.collapsed.clear();
      this.relayout();
    });
    document.getElementById("collapse-all")?.addEventListener("click", () => {
      for (let i = 0; i < this.tree.spans.length; i++) {
        if (this.tree.hasKids(i)) this.tree.collapsed.add(this.tree.spans[i].id);
      }
      this.relayout();
    });
    document.addEventListener("click", (event) => {
      const link = event.target.closest("a.span-link[data-span]");
      if (!link || event.button !== 0 || event.metaKey || event.ctrlKey) return;
      event.preventDefault();
      this.select(link.dataset.span, { push: true, reveal: true });
      this.scroller.focus({ preventScroll: true });
      this.root.scrollIntoView({ block: "nearest" });
    });
    window.addEventListener("popstate", () => {
      const span = new URL(window.location.href).searchParams.get("span");
      this.select(span, { push: false, reveal: true, history: false });
    });
    this.load();
  }

  async load() {
    let token = null;
    let size = FIRST_PAGE;
    try {
      do {
        const url = new URL(this.url, window.location.href);
        url.searchParams.set("max_results", String(size));
        if (token) url.searchParams.set("page_token", token);
        const response = await fetch(url, { headers: { accept: "application/json" } });
        const body = await response.json();
        if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
        this.addPage(body.spans);
        token = body.next_page_token;
        size = PAGE;
      } while (token);
    } catch (error) {
      const box = document.getElementById("span-error");
      box.textContent = `Could not load the spans: ${error.message}`;
      box.hidden = false;
    }
    this.done = true;
    this.updateCount();
  }

  addPage(spans) {
    this.tree.add(spans);
    if (this.selected && this.tree.index.has(this.selected) && !this.shown) {
      // The span the URL names has arrived: open its branch and bring it into view.
      this.select(this.selected, { push: false, reveal: true, history: false });
      // Keys then move from it, unless the user has gone on to something else meanwhile.
      if (document.activeElement === document.body) this.scroller.focus({ preventScroll: true });
    }
    this.updateCount();
    this.drawAxis();
    this.draw();
    if (!this.drawnFirst) {
      this.drawnFirst = true;
      performance.mark("trace-first-rows");
      this.root.dataset.ready = "true";
    }
  }

  updateCount() {
    const n = this.tree.spans.length.toLocaleString("en");
    this.count.textContent = this.done ? `(${n})` : `(${n} loaded, loading…)`;
    if (this.done) this.root.dataset.loaded = "true";
  }

  // After the rows changed (collapse, expand): the selected span stays in view if it has a row.
  relayout() {
    this.tree.flatten();
    const i = this.selected ? this.tree.index.get(this.selected) : undefined;
    if (i !== undefined) this.scrollTo(this.tree.rowOf[i], false);
    this.draw();
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  drawAxis() {
    const span = this.tree.maxEnd - this.tree.minStart || 1;
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) =>
      el(
        "span",
        { className: "tick", "data-at": String(f) },
        formatNs(this.tree.minStart + f * span),
      ),
    );
    this.axis.replaceChildren(...ticks);
    for (const tick of ticks) tick.style.left = `${Number(tick.dataset.at) * 100}%`;
  }

  draw() {
    const tree = this.tree;
    const rows = tree.visible.length;
    this.inner.style.height = `${rows * ROW_HEIGHT}px`;
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const scale = 100 / (tree.maxEnd - tree.minStart || 1);
    const made = [];
    for (let row = first; row < last; row++) made.push(this.makeRow(row, scale));
    this.inner.replaceChildren(...made);
    const current = this.selected ? tree.index.get(this.selected) : undefined;
    if (current !== undefined && tree.rowOf[current] >= 0) {
      this.scroller.setAttribute("aria-activedescendant", `span-row-${tree.rowOf[current]}`);
    } else {
      this.scroller.removeAttribute("aria-activedescendant");
    }
  }

  makeRow(row, scale) {
    const tree = this.tree;
    const i = tree.visible[row];
    const span = tree.spans[i];
    const level = tree.depth[row];
    const selected = span.id === this.selected;
    const node = el("div", {
      className: ["span-row", selected && "is-selected", span.status === "ERROR" && "is-error"]
        .filter(Boolean)
        .join(" "),
      role: "treeitem",
      id: `span-row-${row}`,
      "aria-level": String(level + 1),
      "aria-selected": String(selected),
      "data-row": String(row),
      "data-span-id": span.id,
    });
    node.style.top = `${row * ROW_HEIGHT}px`;
    const name = el("div", { className: "span-cell-name" });
    name.style.paddingLeft = `${4 + Math.min(level, MAX_INDENT_LEVELS) * INDENT}px`;
    if (tree.hasKids(i)) {
      const open = !tree.collapsed.has(span.id);
      node.setAttribute("aria-expanded", String(open));
      name.append(
        el(
          "button",
          {
            type: "button",
            className: "span-toggle",
            tabindex: "-1",
            "aria-label": open ? "Collapse" : "Expand",
            title: `${tree.kids[i].length} child span(s)`,
          },
          open ? "▾" : "▸",
        ),
      );
    } else {
      name.append(el("span", { className: "span-toggle-spacer" }));
    }
    name.append(
      el("span", { className: "span-type", "data-type": span.type }, span.type),
      el("span", { className: "span-name", title: span.name }, span.name),
    );
    const bar = el("div", { className: "span-bar" });
    bar.style.left = `${(span.s - tree.minStart) * scale}%`;
    bar.style.width = `${Math.max(0, (span.d ?? tree.maxEnd - span.s) * scale)}%`;
    const label = span.d === null ? "open" : formatNs(span.d);
    const cell = el(
      "div",
      { className: "span-cell-bar" },
      el("div", { className: "span-track" }, bar),
      el("span", { className: "span-duration" }, label),
    );
    node.append(name, cell);
    return node;
  }

  onClick(event) {
    const row = event.target.closest(".span-row");
    if (!row) return;
    const i = this.tree.index.get(row.dataset.spanId);
    if (event.target.closest(".span-toggle")) {
      this.toggle(i);
      return;
    }
    this.select(row.dataset.spanId, { push: true });
    this.scroller.focus({ preventScroll: true });
  }

  toggle(i, open) {
    const id = this.tree.spans[i].id;
    const isOpen = !this.tree.collapsed.has(id);
    if (open === isOpen || !this.tree.hasKids(i)) return;
    if (isOpen) this.tree.collapsed.add(id);
    else this.tree.collapsed.delete(id);
    this.relayout();
  }

  onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const tree = this.tree;
    const rows = tree.visible.length;
    if (!rows) return;
    const current = this.selected ? tree.index.get(this.selected) : undefined;
    const row = current === undefined ? -1 : tree.rowOf[current];
    const page = Math.max(1, Math.floor(this.scroller.clientHeight / ROW_HEIGHT) - 1);
    const go = (target) => {
      const clamped = Math.max(0, Math.min(rows - 1, target));
      this.select(tree.spans[tree.visible[clamped]].id, { push: false });
    };
    switch (event.key) {
      case "ArrowDown":
      case "j":
        go(row + 1);
        break;
      case "ArrowUp":
      case "k":
        go(row < 0 ? rows - 1 : row - 1);
        break;
      case "PageDown":
        go(row + page);
        break;
      case "PageUp":
        go(row - page);
        break;
      case "Home":
        go(0);
        break;
      case "End":
        go(rows - 1);
        break;
      case "ArrowRight":
        if (current === undefined) return go(0);
        if (tree.hasKids(current) && tree.collapsed.has(this.selected)) this.toggle(current, true);
        else if (tree.hasKids(current)) go(row + 1);
        break;
      case "ArrowLeft": {
        if (current === undefined) return;
        if (tree.hasKids(current) && !tree.collapsed.has(this.selected)) {
          this.toggle(current, false);
          break;
        }
        const parent = tree.parentOf(current);
        if (parent !== undefined) this.select(tree.spans[parent].id, { push: false });
        break;
      }
      case "Enter":
      case " ":
        if (current !== undefined) this.toggle(current);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  // Selects span ``id`` (null: none). ``push``: a new history entry, else the URL is replaced;
  // ``history: false`` leaves the URL alone (back/forward already moved it).
  select(id, { push = false, reveal = false, history = true } = {}) {
    const tree = this.tree;
    this.selected = id || null;
    const i = this.selected ? tree.index.get(this.selected) : undefined;
    this.shown = i !== undefined;
    if (history) {
      const url = new URL(window.location.href);
      if (this.selected) url.searchParams.set("span", this.selected);
      else url.searchParams.delete("span");
      if (url.href !== window.location.href) {
        if (push) window.history.pushState({ span: this.selected }, "", url);
        else window.history.replaceState({ span: this.selected }, "", url);
      }
    }
    if (i !== undefined) {
      if (reveal) tree.reveal(i);
      this.scrollTo(tree.rowOf[i], reveal);
    }
    this.draw();
    this.showDetails(i);
    this.updateFeedbackSpan(i);
  }

  scrollTo(row, center) {
    if (row < 0) return;
    // The rows may just have grown (expanded): size the content first, or the scroll is clamped.
    this.inner.style.height = `${this.tree.visible.length * ROW_HEIGHT}px`;
    const top = row * ROW_HEIGHT;
    const view = this.scroller.clientHeight;
    const scrolled = this.scroller.scrollTop;
    const above = top < scrolled;
    const below = top + ROW_HEIGHT > scrolled + view;
    if (center && (above || below)) {
      this.scroller.scrollTop = Math.max(0, top - view / 2);
    } else if (above) {
      this.scroller.scrollTop = top;
    } else if (below) {
      this.scroller.scrollTop = top + ROW_HEIGHT - view;
    }
  }

  updateFeedbackSpan(i) {
    const box = document.getElementById("feedback-span");
    const label = document.getElementById("feedback-span-id");
    if (!box || !label) return;
    box.disabled = i === undefined;
    box.value = i === undefined ? "" : this.tree.spans[i].id;
    if (i === undefined) box.checked = false;
    const span = i === undefined ? undefined : this.tree.spans[i];
    label.textContent = span ? `${span.name} (${span.id})` : "";
  }

  showDetails(i) {
    if (i === undefined) {
      const text = this.selected
        ? this.done
          ? `No span ${this.selected} in this trace.`
          : `Loading span ${this.selected}…`
        : "Select a span to see its inputs, outputs and attributes.";
      this.details.replaceChildren(el("p", { className: "muted" }, text));
      return;
    }
    this.details.replaceChildren(...spanDetails(this.tree.spans[i]));
  }
}

const root = document.getElementById("trace-view");
if (root) new TraceView(root).start();
