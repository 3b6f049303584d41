// The compare page: overlaid metric charts, parallel coordinates, a scatter and the diff table.
//
// Every control belongs to the form #compare-state, whose fields are the page's query string: a
// change pushes the new query onto the history and redraws, and back/forward (popstate) set the
// controls from the URL again. The runs' values come from the JSON block #compare-data; the
// metric histories from /compare/metric-history, one request per chart, downsampled by the
// server. Plotly is loaded once the controls work (its 3.5 MB must not hold up the table). Its
// WebGL traces (scattergl, parcoords) compile shaders with `new Function`, which the UI's
// content security policy refuses: lines are SVG paths (one per run, of at most ~1,000 points
// the server picked, 60,000 in all), and parallel coordinates are drawn by
// parallel-coordinates.js. User text reaches Plotly only escaped, as Plotly reads labels as HTML.
import { drawParallel } from "./parallel-coordinates.js";

const form = document.getElementById("compare-state");
const dataBlock = document.getElementById("compare-data");
let loading = null;

// Plotly from this server (a classic script: it defines window.Plotly); rejects without it.
function plotly() {
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      if (window.Plotly) return resolve(window.Plotly);
      const url = form?.dataset.plotlyUrl;
      if (!url) return reject(new Error("Charts need the plotly package on the server."));
      const script = document.createElement("script");
      script.src = url;
      script.addEventListener("load", () => resolve(window.Plotly));
      script.addEventListener("error", () =>
        reject(new Error("Charts need the plotly package on the server.")));
      document.head.append(script);
    });
  }
  return loading;
}

const escapeText = (text) =>
  String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const shorten = (text, size = 28) =>
  text.length > size ? `${text.slice(0, size - 1)}…` : text;
const keyOf = (column) => column.slice(column.indexOf(".") + 1);

function readState(data) {
  const params = new URLSearchParams(window.location.search);
  const columns = data.columns;
  const chosen = (name) =>
    params.has(name) ? params.getAll(name).filter(Boolean) : data.defaults[name];
  const axis = (name) => {
    const value = params.get(name);
    return value && Object.hasOwn(columns, value) ? value : data.defaults[name];
  };
  return {
    m: chosen("m").filter((key) => Object.hasOwn(columns, `metrics.${key}`)),
    pc: chosen("pc").filter((column) => Object.hasOwn(columns, column)),
    x: axis("x"),
    y: axis("y"),
    hideEqual: params.get("diff") === "changed",
  };
}

function syncControls(state) {
  for (const box of document.querySelectorAll("input[form=compare-state][name=m]")) {
    if (box.type === "checkbox") box.checked = state.m.includes(box.value);
  }
  for (const box of document.querySelectorAll("input[form=compare-state][name=pc]")) {
    if (box.type === "checkbox") box.checked = state.pc.includes(box.value);
  }
  for (const [id, value] of [["scatter-x", state.x], ["scatter-y", state.y]]) {
    const select = document.getElementById(id);
    if (select && value) select.value = value;
  }
  const hide = document.getElementById("hide-equal");
  if (hide) hide.checked = state.hideEqual;
  document.getElementById("diff")?.classList.toggle("hide-equal", state.hideEqual);
  for (const row of document.querySelectorAll("#diff tr[data-metric]")) {
    row.classList.toggle("is-charted", state.m.includes(row.dataset.metric));
  }
  const summary = document.querySelector("#metric-chooser > summary");
  const total = document.querySelectorAll("#metric-chooser input[type=checkbox]").length;
  if (summary) summary.textContent = `Charts (${state.m.length} of ${total})`;
  const axes = document.querySelector("#axes-chooser > summary");
  if (axes) axes.textContent = `Axes (${state.pc.length})`;
}

// ---------------------------------------------------------------- Plotly
function colors() {
  const css = getComputedStyle(document.documentElement);
  const get = (name) => css.getPropertyValue(name).trim();
  return { fg: get("--fg"), muted: get("--muted"), grid: get("--border"), bg: get("--bg") };
}

function axisStyle(c, extra = {}) {
  return { gridcolor: c.grid, zerolinecolor: c.grid, linecolor: c.grid, automargin: true, ...extra };
}

function baseLayout(c) {
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: c.fg, size: 11 },
    margin: { l: 50, r: 16, t: 16, b: 40 },
    hoverlabel: { namelength: 40 },
    legend: { font: { size: 10 } },
  };
}

const CONFIG = { displaylogo: false, responsive: true };

function showMessage(element, text) {
  if (window.Plotly && element.classList.contains("js-plotly-plot")) window.Plotly.purge(element);
  element.classList.remove("js-plotly-plot");
  const note = document.createElement("p");
  note.className = "plot-empty";
  note.textContent = text;
  element.replaceChildren(note);
  element.setAttribute("aria-busy", "false");
}

// Values of a column as numbers when every present value reads as one, else as text.
function axisValues(values) {
  const present = values.filter((v) => v !== null && v !== undefined);
  const numbers = present.map((v) => (typeof v === "number" ? v : Number(v)));
  const numeric = present.length > 0 && numbers.every((n) => Number.isFinite(n))
    && present.every((v) => typeof v === "number" || String(v).trim() !== "");
  return {
    numeric,
    values: values.map((v) => {
      if (v === null || v === undefined) return null;
      return numeric ? Number(v) : String(v);
    }),
  };
}

// ---------------------------------------------------------------- metric charts
class MetricCharts {
  constructor(data, grid, historyUrl) {
    this.data = data;
    this.grid = grid;
    this.historyUrl = historyUrl;
    this.requests = new Map();
    this.runs = new Map(data.runs.map((run) => [run.id, run]));
  }

  fetchSeries(key) {
    if (!this.requests.has(key)) {
      const url = `${this.historyUrl}&metric=${encodeURIComponent(key)}`;
      // A plain GET, as the page's <link rel=preload> made it: the preloaded answer is used.
      const request = fetch(url).then(
        async (response) => {
          const body = await response.json();
          if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
          return body;
        },
      );
      request.catch(() => this.requests.delete(key)); // a later draw asks again
      this.requests.set(key, request);
    }
    return this.requests.get(key);
  }

  figureFor(key) {
    for (const figure of this.grid.children) {
      if (figure.dataset.metric === key) return figure;
    }
    const figure = document.createElement("figure");
    figure.dataset.metric = key;
    const caption = document.createElement("figcaption");
    caption.textContent = key;
    const plot = document.createElement("div");
    plot.className = "plot";
    plot.setAttribute("aria-busy", "true");
    plot.setAttribute("role", "img");
    plot.setAttribute("aria-label", `${key} of each run by step`);
    figure.append(caption, plot);
    return figure;
  }

  draw(keys, force) {
    const figures = keys.map((key) => this.figureFor(key));
    for (const figure of Array.from(this.grid.children)) {
      if (!figures.includes(figure)) {
        window.Plotly?.purge(figure.querySelector(".plot"));
        figure.remove();
      }
    }
    this.grid.replaceChildren(...figures);
    for (const figure of figures) {
      const plot = figure.querySelector(".plot");
      if (force || plot.dataset.drawn !== "true") this.drawOne(figure.dataset.metric, plot);
    }
  }

  async drawOne(key, plot) {
    plot.setAttribute("aria-busy", "true");
    let body;
    let Plotly;
    try {
      [body, Plotly] = await Promise.all([this.fetchSeries(key), plotly()]);
    } catch (error) {
      showMessage(plot, `Could not draw ${key}: ${error.message}`);
      return;
    }
    if (!plot.isConnected) return;
    const c = colors();
    const traces = body.series.map((series) => {
      const run = this.runs.get(series.run_id);
      return {
        type: "scatter",
        mode: series.step.length === 1 ? "markers" : "lines",
        x: series.step,
        y: series.value,
        name: escapeText(shorten(run ? run.name : series.run_id, 40)),
        line: { color: run?.color, width: 1.5 },
        marker: { color: run?.color, size: 6 },
        hovertemplate: "%{fullData.name}<br>step %{x}: %{y}<extra></extra>",
      };
    });
    if (traces.length === 0) {
      showMessage(plot, "No run logged this metric.");
      return;
    }
    const layout = {
      ...baseLayout(c),
      showlegend: traces.length <= 10,
      xaxis: axisStyle(c, { title: { text: "step" } }),
      yaxis: axisStyle(c),
    };
    await Plotly.react(plot, traces, layout, CONFIG);
    plot.dataset.drawn = "true";
    plot.setAttribute("aria-busy", "false");
  }
}

// ---------------------------------------------------------------- parallel coordinates
function drawParcoords(data, element, columns) {
  if (columns.length < 2) return showMessage(element, "Choose at least two axes.");
  const axes = columns.map((column) => ({ label: keyOf(column), ...axisValues(data.columns[column]) }));
  if (!data.runs.some((_, i) => axes.every((axis) => axis.values[i] !== null))) {
    return showMessage(element, "No run has a value on every chosen axis.");
  }
  drawParallel(element, data.runs, axes);
  element.setAttribute("aria-busy", "false");
}

// Draw one trace in ``element``, replacing a message shown there before.
async function react(element, trace, layout) {
  element.setAttribute("aria-busy", "true");
  let Plotly;
  try {
    Plotly = await plotly();
  } catch (error) {
    showMessage(element, error.message);
    return;
  }
  if (!element.classList.contains("js-plotly-plot")) element.replaceChildren();
  await Plotly.react(element, [trace], layout, CONFIG);
  element.setAttribute("aria-busy", "false");
}

// ---------------------------------------------------------------- scatter
async function drawScatter(data, element, x, y) {
  if (!x || !y) return showMessage(element, "These runs hold nothing to plot.");
  const xs = axisValues(data.columns[x]);
  const ys = axisValues(data.columns[y]);
  const kept = data.runs.map((_, i) => i).filter((i) => xs.values[i] !== null && ys.values[i] !== null);
  const c = colors();
  const trace = {
    type: "scatter",
    mode: "markers",
    x: kept.map((i) => xs.values[i]),
    y: kept.map((i) => ys.values[i]),
    text: kept.map((i) => escapeText(shorten(data.runs[i].name, 40))),
    marker: { color: kept.map((i) => data.runs[i].color), size: 9, opacity: 0.85 },
    hovertemplate: "%{text}<br>x: %{x}<br>y: %{y}<extra></extra>",
  };
  const title = (column) => ({ text: escapeText(shorten(column, 40)) });
  const layout = {
    ...baseLayout(c),
    margin: { l: 60, r: 16, t: 16, b: 50 },
    xaxis: axisStyle(c, { title: title(x), type: xs.numeric ? "linear" : "category" }),
    yaxis: axisStyle(c, { title: title(y), type: ys.numeric ? "linear" : "category" }),
  };
  await react(element, trace, layout);
}

// ---------------------------------------------------------------- diff table keys
const IGNORED = new Set(["INPUT", "TEXTAREA", "SELECT", "BUTTON", "SUMMARY"]);

function initDiffKeys(table) {
  const rows = () => Array.from(table.querySelectorAll("tbody tr.value-row"))
    .filter((row) => row.offsetParent !== null);
  const setCurrent = (row) => {
    table.querySelector("tr.is-current")?.classList.remove("is-current");
    if (!row) return;
    row.classList.add("is-current");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  };
  table.addEventListener("click", (event) => {
    const row = event.target.closest("tr.value-row");
    if (row) setCurrent(row);
  });
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (IGNORED.has(event.target.tagName) || event.target.isContentEditable) return;
    const visible = rows();
    const current = table.querySelector("tr.is-current");
    const index = visible.indexOf(current);
    if (event.key === "j" || event.key === "ArrowDown") {
      setCurrent(visible[Math.min(visible.length - 1, index + 1)]);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      setCurrent(visible[index === -1 ? visible.length - 1 : Math.max(0, index - 1)]);
    } else if (event.key === "Enter" && current?.dataset.metric && event.target.tagName !== "A") {
      const box = Array.from(document.querySelectorAll("input[form=compare-state][name=m]"))
        .find((input) => input.type === "checkbox" && input.value === current.dataset.metric);
      if (!box) return;
      box.checked = !box.checked;
      box.dispatchEvent(new Event("change", { bubbles: true }));
    } else {
      return;
    }
    event.preventDefault();
  });
}

// ---------------------------------------------------------------- wiring
function init() {
  if (!form || !dataBlock) return;
  const data = JSON.parse(dataBlock.textContent);
  const charts = new MetricCharts(
    data, document.getElementById("metric-charts"), form.dataset.historyUrl);
  const parcoords = document.getElementById("parcoords");
  const scatter = document.getElementById("scatter");
  let drawn = {};

  const render = (force = false) => {
    const state = readState(data);
    syncControls(state);
    charts.draw(state.m, force);
    const pcKey = state.pc.join("\n");
    if (force || drawn.pc !== pcKey) drawParcoords(data, parcoords, state.pc);
    if (force || drawn.x !== state.x || drawn.y !== state.y) drawScatter(data, scatter, state.x, state.y);
    drawn = { pc: pcKey, x: state.x, y: state.y };
  };

  document.addEventListener("change", (event) => {
    if (event.target.form !== form) return;
    const query = new URLSearchParams(new FormData(form)).toString();
    window.history.pushState(null, "", `${window.location.pathname}?${query}`);
    render();
  });
  window.addEventListener("popstate", () => render());
  // Plotly resizes its charts itself; the SVG parallel coordinates are drawn to a width.
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => drawParcoords(data, parcoords, readState(data).pc), 150);
  });
  // Plotly's colours are set when it draws: redraw when the theme changes.
  const redraw = () => render(true);
  new MutationObserver(redraw).observe(document.documentElement, {
    attributes: true, attributeFilter: ["data-theme"],
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redraw);
  const table = document.getElementById("diff");
  if (table) initDiffKeys(table);
  render();
}

init();
