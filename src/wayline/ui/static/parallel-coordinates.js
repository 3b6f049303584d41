// Parallel coordinates drawn as plain SVG: one vertical axis per column, one polyline per run.
//
// Plotly's parcoords trace draws with WebGL through regl, which compiles its shaders with
// `new Function`: the UI's content security policy (no 'unsafe-eval') refuses that, so this
// small renderer stands in. Text goes in with textContent (never markup); colours of axes and
// labels come from wayline.css's variables, so the chart follows the theme without a redraw.
const SVG = "http://www.w3.org/2000/svg";
const MARGIN = { top: 36, right: 70, bottom: 28, left: 84 };
const MAX_CATEGORY_TICKS = 24;

function node(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== null) element.textContent = text;
  return element;
}

const shorten = (text, size) => (text.length > size ? `${text.slice(0, size - 1)}…` : text);

function formatTick(value) {
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  return magnitude >= 1e5 || magnitude < 1e-3 ? value.toExponential(2) : String(+value.toPrecision(4));
}

// A scale from an axis's values to a y coordinate, with the ticks to label it.
function scaleOf(axis, top, height) {
  const present = axis.values.filter((v) => v !== null);
  if (axis.numeric) {
    let low = Math.min(...present);
    let high = Math.max(...present);
    if (low === high) {
      low -= 1;
      high += 1;
    }
    const y = (v) => top + (1 - (v - low) / (high - low)) * height;
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => low + f * (high - low));
    return { y, ticks: ticks.map((v) => ({ y: y(v), text: formatTick(v) })) };
  }
  const categories = Array.from(new Set(present)).sort();
  const index = new Map(categories.map((value, i) => [value, i]));
  const step = categories.length > 1 ? height / (categories.length - 1) : 0;
  const y = (v) => (categories.length > 1 ? top + index.get(v) * step : top + height / 2);
  const every = Math.ceil(categories.length / MAX_CATEGORY_TICKS);
  const ticks = categories
    .filter((_, i) => i % every === 0)
    .map((value) => ({ y: y(value), text: shorten(value, 12) }));
  return { y, ticks };
}

// Draw `axes` ([{label, numeric, values}], values aligned with `runs` [{name, color}]) into
// `element`; runs without a value on every axis are left out and counted in a note.
export function drawParallel(element, runs, axes) {
  const width = Math.max(320, element.clientWidth || 900);
  const height = Math.max(200, element.clientHeight || 380);
  const kept = runs.map((_, i) => i).filter((i) => axes.every((a) => a.values[i] !== null));
  const inner = height - MARGIN.top - MARGIN.bottom;
  const gap = (width - MARGIN.left - MARGIN.right) / (axes.length - 1);
  const scales = axes.map((axis) => scaleOf(axis, MARGIN.top, inner));
  const svg = node("svg", {
    class: "parallel", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `Parallel coordinates of ${kept.length} runs over ${axes.length} axes`,
  });
  const lines = node("g", { class: "pc-lines" });
  for (const i of kept) {
    const points = axes.map((axis, a) => `${(MARGIN.left + a * gap).toFixed(1)},${scales[a].y(axis.values[i]).toFixed(1)}`);
    const line = node("polyline", { points: points.join(" "), stroke: runs[i].color });
    line.append(node("title", {}, runs[i].name));
    lines.append(line);
  }
  svg.append(lines);
  axes.forEach((axis, a) => {
    const x = MARGIN.left + a * gap;
    const group = node("g", { class: "pc-axis", transform: `translate(${x.toFixed(1)},0)` });
    group.append(node("line", { y1: MARGIN.top, y2: MARGIN.top + inner }));
    const label = node("text", { class: "pc-label", y: MARGIN.top - 14, "text-anchor": "middle" },
      shorten(axis.label, 22));
    label.append(node("title", {}, axis.label));
    group.append(label);
    for (const tick of scales[a].ticks) {
      group.append(node("line", { class: "pc-tick", x1: -4, x2: 0, y1: tick.y, y2: tick.y }));
      group.append(node("text", { class: "pc-tick-text", x: -7, y: tick.y + 4, "text-anchor": "end" }, tick.text));
    }
    svg.append(group);
  });
  const left = runs.length - kept.length;
  if (left) {
    svg.append(node("text", { class: "pc-note", x: MARGIN.left, y: height - 6 },
      `${left} run(s) without a value on every axis are not drawn`));
  }
  element.replaceChildren(svg);
}
