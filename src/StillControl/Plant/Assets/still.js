// One still's live view on the plant side, from its MQTT state and telemetry as the plant received them.
"use strict";
(() => {
  const { t, phase, element, duration, age, number } = Plant;
  const query = new URLSearchParams(location.search);
  const site = query.get("site") || "";
  const name = query.get("name") || "";
  let points = [];
  let view = null;
  let receivedAt = Date.now();
  const series = [
    { key: "strength", label: "%vol", color: "#b3541e", value: (p) => p.strengthPercentVolume },
    { key: "vapour", label: "vapour °C", color: "#1f6fb2", value: (p) => p.channels.vapour },
    { key: "distillate", label: "distillate °C", color: "#2a9d4b", value: (p) => p.channels.distillate },
    { key: "steam", label: "steam %", color: "#8a5ab8", value: (p) => p.steamValvePercent },
  ];

  function facts() {
    const box = document.getElementById("facts");
    box.replaceChildren();
    const state = Plant.status(view);
    const add = (label, value, className) => {
      const item = element("div", "fact" + (className ? " " + className : ""));
      item.append(element("span", "label", label), element("span", "value", value));
      box.append(item);
    };
    add(t("online"), t(state), state);
    add(t("phase"), phase(view.phase) + (view.held ? " · " + t("held") + (view.holdCause ? " (" + view.holdCause + ")" : "") : ""), view.held ? "held" : null);
    add(t("batch"), view.batchId || "—");
    add(t("elapsed"), duration(view.elapsedSeconds));
    add(t("strength"), number(view.strengthPercentVolume, 1, "%vol"));
    add(t("cooling"), view.cooling === "idle" ? t("idle") : t(view.cooling) + " · " + number(view.coolingCelsius, 1, "°C") + " (" + t("target") + " " + number(view.coolingTargetCelsius, 0, "°C") + ")", "cooling " + view.cooling);
    add(t("steam"), number(view.steamValvePercent, 0, "%"));
    add(t("coolingValve"), number(view.coolingValvePercent, 0, "%"));
    add(t("receiver"), view.receiver || "—");
    add(t("alarms"), view.activeAlarms.length ? view.activeAlarms.join(", ") : t("none"), view.activeAlarms.length ? "alarms" : null);
    add(t("dataAge"), age(view.dataAgeSeconds == null ? null : view.dataAgeSeconds + (Date.now() - receivedAt) / 1000));
    if (view.coverLayerAdvised) add("!", t("coverLayer"), "alarms");
  }

  function channels() {
    const body = document.querySelector("#channels tbody");
    body.replaceChildren();
    const last = points[points.length - 1];
    if (!last) return;
    for (const [channel, value] of Object.entries(last.channels)) {
      const row = element("tr");
      row.append(element("th", null, channel), element("td", null, value == null ? "—" : value.toFixed(2)));
      body.append(row);
    }
  }

  function chart() {
    const canvas = document.getElementById("chart");
    const width = canvas.clientWidth || 900;
    canvas.width = width * (window.devicePixelRatio || 1);
    canvas.height = 320 * (window.devicePixelRatio || 1);
    const g = canvas.getContext("2d");
    g.scale(window.devicePixelRatio || 1, window.devicePixelRatio || 1);
    g.clearRect(0, 0, width, 320);
    const shown = points.slice(-600);
    if (shown.length < 2) return;
    const t0 = Date.parse(shown[0].at), t1 = Date.parse(shown[shown.length - 1].at);
    const left = 40, right = width - 10, top = 10, bottom = 290;
    g.strokeStyle = "#ccc"; g.fillStyle = "#555"; g.font = "12px sans-serif";
    for (let v = 0; v <= 100; v += 25) {
      const y = bottom - (v / 110) * (bottom - top);
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillText(String(v), 5, y + 4);
    }
    g.fillText(duration((t1 - t0) / 1000), right - 60, 310);
    for (const s of series) {
      g.strokeStyle = s.color; g.lineWidth = 2; g.beginPath();
      let drawing = false;
      for (const p of shown) {
        const value = s.value(p);
        if (value == null) { drawing = false; continue; }
        const x = left + ((Date.parse(p.at) - t0) / Math.max(1, t1 - t0)) * (right - left);
        const y = bottom - (Math.min(110, Math.max(0, value)) / 110) * (bottom - top);
        if (drawing) g.lineTo(x, y); else g.moveTo(x, y);
        drawing = true;
      }
      g.stroke();
    }
  }

  function legend() {
    const box = document.getElementById("legend");
    box.replaceChildren();
    for (const s of series) {
      const item = element("span", "key", s.label);
      item.style.borderColor = s.color;
      box.append(item);
    }
  }

  function events(lines) {
    const list = document.getElementById("events");
    list.replaceChildren();
    for (const line of lines.slice(0, 40)) {
      const item = element("li", line.source === "plant" ? "plant" : null);
      item.append(element("time", null, new Date(line.at).toLocaleString(Plant.lang)), element("span", "kind", line.kind), element("span", null, line.message));
      list.append(item);
    }
  }

  async function run() {
    const detail = await Plant.get("/api/stills/" + encodeURIComponent(site) + "/" + encodeURIComponent(name)).catch(() => null);
    if (!detail) {
      if (document.getElementById("login").hidden) {
        const missing = document.getElementById("missing");
        missing.hidden = false;
        missing.textContent = t("notSeen");
      }
      return;
    }
    document.getElementById("still-name").textContent = name + " · " + site;
    document.getElementById("view").hidden = false;
    view = detail.still;
    points = detail.points;
    legend(); facts(); channels(); chart(); events(detail.events);
    const after = points.length ? points[points.length - 1].sequence : 0;
    const source = new EventSource("/api/stream?site=" + encodeURIComponent(site) + "&name=" + encodeURIComponent(name) + "&after=" + after);
    const line = document.getElementById("stream");
    source.addEventListener("tile", (event) => { view = JSON.parse(event.data); receivedAt = Date.now(); facts(); });
    source.addEventListener("points", (event) => {
      points = points.concat(JSON.parse(event.data)).slice(-900);
      channels(); chart();
    });
    source.onopen = () => { line.textContent = t("live"); line.className = "live"; };
    source.onerror = () => { line.textContent = t("reconnecting"); line.className = "down"; };
    setInterval(async () => {
      const fresh = await Plant.get("/api/stills/" + encodeURIComponent(site) + "/" + encodeURIComponent(name)).catch(() => null);
      if (fresh) events(fresh.events);
    }, 10000);
    setInterval(facts, 1000);
    window.addEventListener("resize", chart);
  }

  Plant.start(run);
})();
