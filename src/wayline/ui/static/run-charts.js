// The run page's metric charts: one Plotly chart per metric, drawn from the series the server
// downsamples (…/metric-data, each bucket's lowest and highest point), with the x axis, the
// log scale, the smoothing and the chosen metrics kept in the URL's query string, so a view is
// a link and back/forward step through changes. The first charts' series are preloaded by the
// page; the others are fetched when they first scroll into view; a change of the controls
// redraws from the fetched series. Colours come from wayline.css's variables and follow the
// theme when it changes.
const X_TITLES = { step: "Step", time: "Wall time", relative: "Relative time (s)" };

function readState() {
  const query = new URLSearchParams(window.location.search);
  const x = query.get("x");
  let smoothing = Number.parseFloat(query.get("smooth") ?? "0");
  if (!(smoothing >= 0 && smoothing <= 0.99)) smoothing = 0;
  return {
    x: x in X_TITLES ? x : "step",
    logY: query.get("log") === "1",
    smoothing,
    chosen: query.getAll("m").filter(Boolean),
  };
}

// The chart controls as query parameters, defaults left out (the server reads them back).
function stateQuery(state) {
  const query = new URLSearchParams();
  if (state.x !== "step") query.set("x", state.x);
  if (state.logY) query.set("log", "1");
  if (state.smoothing) query.set("smooth", String(state.smoothing));
  for (const key of state.chosen) query.append("m", key);
  const text = query.toString();
  return text ? `?${text}` : "";
}

let plotly = null;
function loadPlotly(url) {
  // Plotly's bundle is a classic script setting window.Plotly. The page starts it as an async
  // script (#plotly-script), which may have run already; without one, it is added here.
  plotly ??= new Promise((resolve, reject) => {
    if (window.Plotly) {
      resolve(window.Plotly);
      return;
    }
    let script = document.getElementById("plotly-script");
    if (!script) {
      script = document.createElement("script");
      script.src = url;
      document.head.append(script);
    }
    const failed = () => reject(new Error("Plotly could not be loaded."));
    script.addEventListener("load", () => (window.Plotly ? resolve(window.Plotly) : failed()));
    script.addEventListener("error", failed);
    // The page's load event waits for async scripts: an error that came before this listener
    // was added still ends the wait here.
    window.addEventListener("load", () => (window.Plotly ? resolve(window.Plotly) : failed()));
  });
  return plotly;
}

// TensorBoard's smoothing: an exponential moving average, debiased so it starts at the data.
export function smooth(values, weight) {
  let last = 0;
  let count = 0;
  return values.map((value) => {
    if (value === null || !Number.isFinite(value)) return value;
    last = last * weight + (1 - weight) * value;
    count += 1;
    return last / (1 - weight ** count);
  });
}

function xValues(series, x, startTime) {
  if (x === "step") return series.steps;
  if (x === "time") return series.timestamps;
  const origin = Number.isFinite(startTime) ? startTime : (series.timestamps[0] ?? 0);
  return series.timestamps.map((t) => (t - origin) / 1000);
}

function themeColors() {
  const style = getComputedStyle(document.documentElement);
  const read = (name) => style.getPropertyValue(name).trim();
  return { bg: read("--bg"), fg: read("--fg"), grid: read("--border"), line: read("--accent") };
}

function traces(series, state, startTime, colors) {
  const x = xValues(series, state.x, startTime);
  const mode = series.values.length === 1 ? "lines+markers" : "lines";
  const hover = state.x === "time" ? "%{x|%Y-%m-%d %H:%M:%S}<br>%{y}<extra></extra>" : "%{x}<br>%{y}<extra></extra>";
  const raw = {
    x, y: series.values, type: "scatter", mode, line: { color: colors.line, width: 1.5 },
    hovertemplate: hover,
  };
  if (!state.smoothing) return [raw];
  raw.opacity = 0.3;
  raw.hoverinfo = "skip";
  delete raw.hovertemplate;
  const smoothed = {
    x, y: smooth(series.values, state.smoothing), type: "scatter", mode,
    line: { color: colors.line, width: 1.8 }, hovertemplate: hover,
  };
  return [raw, smoothed];
}

function layout(state, colors) {
  const axis = { gridcolor: colors.grid, zerolinecolor: colors.grid, linecolor: colors.grid };
  return {
    height: 240,
    margin: { l: 56, r: 12, t: 8, b: 40 },
    paper_bgcolor: colors.bg,
    plot_bgcolor: colors.bg,
    font: { color: colors.fg, size: 11 },
    showlegend: false,
    hovermode: "closest",
    xaxis: { ...axis, title: { text: X_TITLES[state.x] }, type: state.x === "time" ? "date" : "linear" },
    yaxis: { ...axis, type: state.logY ? "log" : "linear", exponentformat: "e" },
  };
}

function initCharts(root) {
  const plotlyUrl = root.dataset.plotlyUrl;
  const startTime = Number.parseInt(root.dataset.startTime ?? "", 10);
  const figures = Array.from(document.querySelectorAll("figure.chart-card"));
  if (figures.length === 0) return;
  const controls = document.getElementById("chart-controls");
  const series = new Map(); // series URL -> Promise of the series
  const drawn = new Map(); // figure -> its series, once drawn
  const loading = new Set(); // figures whose series was asked for
  let state = readState();
  let firstDrawn = false;

  if (!plotlyUrl) {
    for (const figure of figures) note(figure, "Charts need the plotly package on the server.");
    return;
  }
  const plotlyReady = loadPlotly(plotlyUrl);
  // Failures are shown on each chart; this keeps an early failure from going unhandled.
  plotlyReady.catch(() => {});

  function note(figure, text) {
    figure.querySelector(".chart-note").textContent = text;
  }

  function fetchSeries(figure) {
    const url = figure.dataset.series; // as the page preloaded it
    if (!series.has(url)) {
      const request = fetch(url).then(async (response) => {
        const body = await response.json();
        if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
        return body;
      });
      series.set(url, request);
    }
    return series.get(url);
  }

  function draw(Plotly, figure, data) {
    const colors = themeColors();
    const chart = figure.querySelector(".chart");
    const config = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["toImage"] };
    return Plotly.react(chart, traces(data, state, startTime, colors), layout(state, colors), config);
  }

  async function load(figure) {
    loading.add(figure);
    observer.unobserve(figure);
    try {
      const [Plotly, data] = await Promise.all([plotlyReady, fetchSeries(figure)]);
      await draw(Plotly, figure, data);
      drawn.set(figure, data);
      figure.querySelector(".chart").dataset.drawn = String(data.values.length);
      if (data.values.length === 0) note(figure, "No points.");
      else if (data.downsampled) note(figure, `${data.values.length} points: each interval's lowest and highest value.`);
      if (!firstDrawn) {
        firstDrawn = true;
        performance.mark("wayline:first-chart");
      }
    } catch (error) {
      note(figure, `Could not draw this chart: ${error.message}`);
    }
  }

  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) load(entry.target);
      }
    },
    { rootMargin: "300px" },
  );

  function showChosen() {
    for (const figure of figures) {
      if (!root.contains(figure)) continue; // system metrics are always shown
      figure.hidden = state.chosen.length > 0 && !state.chosen.includes(figure.dataset.key);
    }
    for (const figure of figures) {
      if (figure.hidden || drawn.has(figure) || loading.has(figure)) continue;
      if (figure.hasAttribute("data-preloaded")) load(figure); // its series is on its way
      else observer.observe(figure);
    }
  }

  async function redrawAll() {
    if (drawn.size === 0) return;
    const Plotly = await plotlyReady;
    for (const [figure, data] of drawn) draw(Plotly, figure, data);
  }

  function syncControls() {
    if (!controls) return;
    const chooser = controls.querySelector(".metric-chooser > summary");
    if (chooser) chooser.textContent = `Metrics (${state.chosen.length || "all"})`;
    controls.querySelector("#chart-x").value = state.x;
    controls.querySelector("#chart-log").checked = state.logY;
    controls.querySelector("#chart-smooth").value = String(state.smoothing);
    controls.querySelector("#chart-smooth-value").textContent = String(state.smoothing);
    for (const box of controls.querySelectorAll("input[name=m]")) {
      box.checked = state.chosen.includes(box.value);
    }
  }

  function controlsState() {
    return {
      x: controls.querySelector("#chart-x").value,
      logY: controls.querySelector("#chart-log").checked,
      smoothing: Number.parseFloat(controls.querySelector("#chart-smooth").value) || 0,
      chosen: Array.from(controls.querySelectorAll("input[name=m]:checked"), (box) => box.value),
    };
  }

  function commit() {
    state = controlsState();
    syncControls();
    const url = window.location.pathname + stateQuery(state);
    if (url !== window.location.pathname + window.location.search) {
      history.pushState(null, "", url);
    }
    showChosen();
    redrawAll();
  }

  if (controls) {
    // Every change applies at once; the Apply button is for browsers without scripts.
    controls.querySelector("button.apply").hidden = true;
    controls.addEventListener("submit", (event) => {
      event.preventDefault();
      commit();
    });
    controls.addEventListener("change", commit);
    const slider = controls.querySelector("#chart-smooth");
    let frame = 0;
    slider.addEventListener("input", () => {
      // While dragging: redraw (once a frame) without adding history entries.
      controls.querySelector("#chart-smooth-value").textContent = slider.value;
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(() => {
        state = { ...state, smoothing: Number.parseFloat(slider.value) || 0 };
        redrawAll();
      });
    });
  }

  window.addEventListener("popstate", () => {
    state = readState();
    syncControls();
    showChosen();
    redrawAll();
  });

  new MutationObserver(() => redrawAll()).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["data-theme"],
  });
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => redrawAll());

  syncControls();
  showChosen();
}

const section = document.getElementById("charts");
if (section) initCharts(section);
