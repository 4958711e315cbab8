// StillControl's own small SVG chart for the running batch (no library): temperatures, valves and strength on one 0-110 scale
// (°C and % share it well on a steam still), phase bands, and each phase's cooling target and limit.
"use strict";
(function () {
  const NS = "http://www.w3.org/2000/svg";
  const W = 1000, H = 380, L = 44, R = 14, T = 24, B = 34, TOP = 110;
  // [index in a point, colour, dashed, label key]
  const TRACES = [
    [1, "#c0392b", false, "trace.vapour"],
    [2, "#1f5fa8", false, "trace.distillate"],
    [3, "#8e6c1f", false, "trace.bedSurface"],
    [4, "#16a2b8", false, "trace.coolingOut"],
    [5, "#e67e22", true, "trace.steamValve"],
    [6, "#5b7bd5", true, "trace.coolingValve"],
    [7, "#7d3c98", false, "trace.strength"],
  ];
  const BANDS = ["#f4efe3", "#e9f0f6"];

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }

  function render(container, data, t) {
    const points = data.points || [];
    const started = data.startedAt ? Date.parse(data.startedAt) : null;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", "aria-label": t("chart") });
    const last = points.length ? points[points.length - 1][0] : 0;
    const span = Math.max(600, last * 1.05);
    const x = s => L + (s / span) * (W - L - R);
    const y = v => T + (1 - Math.max(0, Math.min(TOP, v)) / TOP) * (H - T - B);

    // Phase bands, labelled, with the cooling target (dashed) and limit (solid) of each.
    (data.phases || []).forEach((p, i) => {
      if (started === null) return;
      const a = (Date.parse(p.startedAt) - started) / 1000;
      const b = p.endedAt ? (Date.parse(p.endedAt) - started) / 1000 : last;
      if (b < a) return;
      el("rect", { x: x(a), y: T, width: Math.max(1, x(b) - x(a)), height: H - T - B, fill: BANDS[i % 2] }, svg);
      const label = el("text", { x: x(a) + 4, y: T - 6, "font-size": 13, fill: "#5d656b" }, svg);
      label.textContent = t("phase." + p.phase);
      if (p.coolingTargetCelsius != null) {
        el("line", { x1: x(a), x2: x(b), y1: y(p.coolingTargetCelsius), y2: y(p.coolingTargetCelsius), stroke: "#1f6f43", "stroke-width": 2, "stroke-dasharray": "6 4", class: "cooling-target" }, svg);
      }
      if (p.coolingMaximumCelsius != null) {
        el("line", { x1: x(a), x2: x(b), y1: y(p.coolingMaximumCelsius), y2: y(p.coolingMaximumCelsius), stroke: "#a51d2d", "stroke-width": 2, class: "cooling-limit" }, svg);
      }
    });

    // Grid and axes.
    for (let v = 0; v <= TOP; v += 20) {
      el("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#d9d5cc", "stroke-width": 1 }, svg);
      const tx = el("text", { x: L - 6, y: y(v) + 4, "font-size": 12, "text-anchor": "end", fill: "#5d656b" }, svg);
      tx.textContent = String(v);
    }
    const stepMinutes = [1, 2, 5, 10, 15, 30, 60, 120].find(m => span / 60 / m <= 8) || 240;
    const clock = data.timeZone ? new Intl.DateTimeFormat(data.lang, { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: data.timeZone }) : null;
    for (let m = 0; m * 60 <= span; m += stepMinutes) {
      const tx = el("text", { x: x(m * 60), y: H - B + 18, "font-size": 12, "text-anchor": "middle", fill: "#5d656b" }, svg);
      tx.textContent = started !== null && clock ? clock.format(new Date(started + m * 60000)) : `${m} min`;
    }
    el("line", { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: "#888" }, svg);

    // Traces: a gap where a reading is missing.
    for (const [index, colour, dashed, key] of TRACES) {
      let d = "", pen = false;
      for (const p of points) {
        const v = p[index];
        if (v === null || v === undefined) { pen = false; continue; }
        d += (pen ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(v).toFixed(1);
        pen = true;
      }
      if (d) el("path", { d, fill: "none", stroke: colour, "stroke-width": 2.2, "stroke-dasharray": dashed ? "5 4" : "none", "data-trace": key }, svg);
    }
    if (!points.length) {
      const empty = el("text", { x: W / 2, y: H / 2, "font-size": 18, "text-anchor": "middle", fill: "#5d656b" }, svg);
      empty.textContent = t("chartEmpty");
    }
    container.replaceChildren(svg);
  }

  function legend(container, t) {
    const items = TRACES.map(([, colour, , key]) => {
      const s = document.createElement("span");
      s.style.setProperty("--c", colour);
      s.textContent = t(key);
      return s;
    });
    const target = document.createElement("span"); target.style.setProperty("--c", "#1f6f43"); target.textContent = t("trace.coolingTarget");
    const limit = document.createElement("span"); limit.style.setProperty("--c", "#a51d2d"); limit.textContent = t("trace.coolingLimit");
    container.replaceChildren(...items, target, limit);
  }

  window.StillChart = { render, legend };
})();
