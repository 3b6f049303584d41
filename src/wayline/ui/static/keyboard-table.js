// Keyboard navigation of tables marked .keyboard-table: j/k or the arrow keys move the current
// row, Enter opens it, x toggles its checkbox. Keys typed into form fields are left alone.
const IGNORED = new Set(["INPUT", "TEXTAREA", "SELECT", "BUTTON", "SUMMARY"]);

function visibleRows(table) {
  return Array.from(table.tBodies[0]?.rows ?? []).filter(
    (row) => row.dataset.href && !row.classList.contains("is-hidden"),
  );
}

function setCurrent(table, row) {
  table.querySelector("tr.is-current")?.classList.remove("is-current");
  if (!row) return;
  row.classList.add("is-current");
  row.focus({ preventScroll: true });
  row.scrollIntoView({ block: "nearest" });
}

function move(table, step) {
  const rows = visibleRows(table);
  if (rows.length === 0) return;
  const current = table.querySelector("tr.is-current");
  const index = rows.indexOf(current);
  const next = index === -1 ? (step > 0 ? 0 : rows.length - 1) : index + step;
  setCurrent(table, rows[Math.max(0, Math.min(rows.length - 1, next))]);
}

export function initKeyboardTables() {
  const table = document.querySelector("table.keyboard-table");
  if (!table) return;
  table.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-href]");
    if (row) setCurrent(table, row);
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (IGNORED.has(event.target.tagName) && event.target.closest("tr") === null) return;
    if (event.target.isContentEditable) return;
    const current = table.querySelector("tr.is-current");
    switch (event.key) {
      case "j":
      case "ArrowDown":
        move(table, 1);
        break;
      case "k":
      case "ArrowUp":
        move(table, -1);
        break;
      case "Enter":
        // A focused link or button already acts on Enter by itself.
        if (!current || ["A", "BUTTON"].includes(event.target.tagName)) return;
        window.location.assign(current.dataset.href);
        break;
      case "x": {
        const box = current?.querySelector("input[type=checkbox]");
        if (!box) return;
        box.click();
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  });
}
