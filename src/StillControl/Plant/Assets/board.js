// The plant board: one tile per still, kept current by the server's pushed updates.
"use strict";
(() => {
  const { t, phase, element, duration, age, number } = Plant;
  const tiles = new Map();     // "site/name" -> { view, receivedAt, el }

  function key(view) { return view.site + "/" + view.name; }

  function render(entry) {
    const view = entry.view;
    const state = Plant.status(view);
    const el = entry.el;
    el.className = "tile " + state + (view.activeAlarms.length ? " alarm" : "") + (view.held ? " held" : "");
    el.replaceChildren();
    const head = element("div", "tile-head");
    head.append(element("span", "name", view.name), element("span", "site", view.site), element("span", "badge " + state, t(state)));
    el.append(head);
    const phaseLine = element("div", "phase", phase(view.phase));
    if (view.held) phaseLine.append(element("span", "flag", t("held")));
    el.append(phaseLine);
    const facts = element("dl", "facts");
    const fact = (label, value, className) => {
      facts.append(element("dt", null, label));
      facts.append(element("dd", className || null, value));
    };
    fact(t("elapsed"), duration(view.elapsedSeconds));
    fact(t("strength"), number(view.strengthPercentVolume, 1, "%vol"));
    const cooling = view.cooling === "idle" ? t("idle")
      : t(view.cooling) + (view.coolingCelsius != null ? " · " + number(view.coolingCelsius, 1, "°C") : "") + (view.coolingTargetCelsius != null ? " (" + t("target") + " " + number(view.coolingTargetCelsius, 0, "°C") + ")" : "");
    fact(t("cooling"), cooling, "cooling " + view.cooling);
    fact(t("alarms"), view.activeAlarms.length ? view.activeAlarms.join(", ") : t("none"), view.activeAlarms.length ? "alarms" : null);
    const ageNow = view.dataAgeSeconds == null ? null : view.dataAgeSeconds + (Date.now() - entry.receivedAt) / 1000;
    fact(t("dataAge"), age(ageNow), ageNow != null && ageNow > 30 ? "stale" : null);
    el.append(facts);
    if (view.coverLayerAdvised) el.append(element("div", "advice", t("coverLayer")));
    if (view.backlogs.length) el.append(element("div", "advice", t("backlog") + ": " + view.backlogs.join(", ")));
  }

  function put(view) {
    const k = key(view);
    let entry = tiles.get(k);
    if (entry && entry.view.version > view.version) return;
    if (!entry) {
      const el = element("a", "tile");
      el.href = Plant.stillUrl(view);
      el.dataset.still = k;
      entry = { el };
      tiles.set(k, entry);
      const list = document.getElementById("tiles");
      const after = [...list.children].find((c) => c.dataset.still > k);
      list.insertBefore(el, after || null);
    }
    entry.view = view;
    entry.receivedAt = Date.now();
    render(entry);
  }

  function summary() {
    const views = [...tiles.values()].map((e) => e.view);
    const online = views.filter((v) => v.online).length;
    const alarms = views.filter((v) => v.activeAlarms.length).length;
    document.getElementById("summary").textContent =
      views.length + " " + t("stills") + " · " + online + " " + t("online") + " · " + (views.length - online) + " " + t("offline") + " · " + alarms + " " + t("alarmsActive");
    document.getElementById("empty").hidden = views.length > 0;
  }

  async function run() {
    const views = await Plant.get("/api/stills");
    if (!views) return;
    views.forEach(put);
    summary();
    const source = new EventSource("/api/stream");
    const line = document.getElementById("stream");
    source.addEventListener("tile", (event) => { put(JSON.parse(event.data)); summary(); });
    source.onopen = () => { line.textContent = t("live"); line.className = "live"; };
    source.onerror = () => { line.textContent = t("reconnecting"); line.className = "down"; };
    // Data ages move on between updates.
    setInterval(() => tiles.forEach(render), 1000);
  }

  Plant.start(run);
})();
