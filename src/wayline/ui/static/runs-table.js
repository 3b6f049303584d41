// The runs table: selecting runs for the delete/restore action, and collapsing child runs
// under their parent (the rows carry data-run-id and, when nested, data-parent).
function descendants(table, runId) {
  const found = [];
  const queue = [runId];
  while (queue.length) {
    const parent = queue.shift();
    for (const row of table.querySelectorAll(`tr[data-parent="${CSS.escape(parent)}"]`)) {
      found.push(row);
      queue.push(row.dataset.runId);
    }
  }
  return found;
}

function initCollapse(table) {
  table.addEventListener("click", (event) => {
    const button = event.target.closest("button.toggle");
    if (!button) return;
    const row = button.closest("tr");
    const expand = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(expand));
    button.setAttribute("aria-label", expand ? "Collapse child runs" : "Expand child runs");
    button.textContent = expand ? "▾" : "▸";
    for (const child of descendants(table, row.dataset.runId)) {
      child.classList.toggle("is-hidden", !expand);
      // A collapsed grandparent wins: re-expanding shows the grandchildren as expanded too.
      const inner = child.querySelector("button.toggle");
      if (inner) {
        inner.setAttribute("aria-expanded", String(expand));
        inner.textContent = expand ? "▾" : "▸";
      }
    }
  });
}

function initSelection(table) {
  const selectAll = document.getElementById("select-all");
  const action = document.getElementById("selection-action");
  const count = document.getElementById("selection-count");
  const compare = document.getElementById("compare-selected");
  const boxes = () => Array.from(table.querySelectorAll("tbody input[name=run_id]"));
  const update = () => {
    const selected = boxes().filter((box) => box.checked).length;
    if (count) count.textContent = String(selected);
    if (action) action.disabled = selected === 0;
    if (compare) compare.disabled = selected < 2 || selected > 500; // the compare page's bounds
    if (selectAll) {
      selectAll.checked = selected > 0 && selected === boxes().length;
      selectAll.indeterminate = selected > 0 && selected < boxes().length;
    }
  };
  table.addEventListener("change", (event) => {
    if (event.target === selectAll) {
      for (const box of boxes()) box.checked = selectAll.checked;
    }
    update();
  });
  update();
}

export function initRunsTable() {
  const table = document.getElementById("runs");
  if (!table) return;
  initCollapse(table);
  initSelection(table);
}
