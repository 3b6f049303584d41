// Entry module of every page: theme toggle, keyboard navigation of tables, run selection and
// the collapsing of nested runs. Each part finds its elements and does nothing without them.
import { initThemeToggle } from "./theme-toggle.js";
import { initKeyboardTables } from "./keyboard-table.js";
import { initRunsTable } from "./runs-table.js";

initThemeToggle();
initKeyboardTables();
initRunsTable();
