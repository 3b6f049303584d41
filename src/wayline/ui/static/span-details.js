// The details panel of the trace view: the selected span's facts, error, inputs, outputs,
// attributes and events, built as DOM nodes. Every value from the trace is set as text (never
// as HTML); inputs, outputs and attribute values that are not text are shown as indented JSON.

export function formatNs(ns) {
  if (ns === null || ns === undefined) return "";
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${ns} ns`;
  if (abs < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (abs < 1e9) return `${(ns / 1e6).toFixed(abs < 1e7 ? 2 : abs < 1e8 ? 1 : 0)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "className") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Text as it is, anything else as indented JSON.
export function pretty(value) {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

function section(title, ...body) {
  return el("section", { className: "detail-section" }, el("h3", {}, title), ...body);
}

function tokenText(tokens) {
  if (tokens === null || typeof tokens !== "object") return pretty(tokens);
  return Object.entries(tokens)
    .map(([key, value]) => `${key.replaceAll("_", " ")}: ${value}`)
    .join(" · ");
}

export function spanDetails(span) {
  const parts = [];
  parts.push(
    el(
      "h3",
      { className: "detail-title" },
      el("span", { className: "span-type", "data-type": span.type }, span.type),
      " ",
      el("span", { "data-testid": "span-name" }, span.name),
    ),
  );
  const facts = el("dl", { className: "overview span-facts" });
  const fact = (term, value, className = "") => {
    facts.append(el("dt", {}, term), el("dd", className ? { className } : {}, value));
  };
  fact("Span ID", span.id, "mono");
  if (span.parent) fact("Parent", span.parent, "mono");
  fact("Status", span.status, `status-text status-${span.status.toLowerCase()}`);
  fact("Start", `+${formatNs(span.s)}`);
  fact("Duration", span.d === null ? "not ended" : formatNs(span.d));
  fact("Kind", span.kind);
  if (span.tokens !== undefined) fact("Tokens", tokenText(span.tokens));
  parts.push(facts);

  const exceptions = span.events.filter((e) => e.name === "exception");
  if (span.status === "ERROR" || exceptions.length) {
    const box = el("div", { className: "error span-error", "data-testid": "span-error" });
    if (span.message) box.append(el("p", {}, span.message));
    for (const event of exceptions) {
      const a = event.attributes;
      const what = `${a["exception.type"] ?? "Exception"}: ${a["exception.message"] ?? ""}`;
      box.append(el("p", { className: "mono" }, what));
      const stack = a["exception.stacktrace"];
      if (stack) box.append(el("pre", { className: "stack" }, stack));
    }
    parts.push(section("Error", box));
  }
  parts.push(
    section(
      "Inputs",
      "inputs" in span
        ? el("pre", { className: "json", "data-testid": "span-inputs" }, pretty(span.inputs))
        : el("p", { className: "muted" }, "None recorded."),
    ),
    section(
      "Outputs",
      "outputs" in span
        ? el("pre", { className: "json", "data-testid": "span-outputs" }, pretty(span.outputs))
        : el("p", { className: "muted" }, "None recorded."),
    ),
  );
  const keys = Object.keys(span.attributes).sort();
  if (keys.length) {
    const body = el("tbody");
    for (const key of keys) {
      const value = el("pre", { className: "json" }, pretty(span.attributes[key]));
      body.append(el("tr", {}, el("td", { className: "mono" }, key), el("td", {}, value)));
    }
    const table = el("table", { className: "data kv span-attributes" }, body);
    parts.push(section(`Attributes (${keys.length})`, table));
  } else {
    parts.push(section("Attributes", el("p", { className: "muted" }, "None.")));
  }
  if (span.events.length) {
    const list = el("ol", { className: "span-events" });
    for (const event of span.events) {
      const attrs = Object.keys(event.attributes).length
        ? el("pre", { className: "json" }, pretty(event.attributes))
        : null;
      const when = el("span", { className: "muted small" }, `+${formatNs(event.t)}`);
      list.append(el("li", {}, el("span", { className: "mono" }, event.name), " ", when, attrs));
    }
    parts.push(section(`Events (${span.events.length})`, list));
  }
  return parts;
}

