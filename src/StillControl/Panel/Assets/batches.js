// StillControl panel: the Batches page (the journal's batches, reports, exports) and the Recipes page (the effective recipe, a
// supervisor's upload with the recipe check's messages), and the page navigation in the header (#pages, one link per page).
// It keeps to its own elements and texts: it learns of sign-in and language from the page (the sign-in view, <html lang>).
"use strict";
(function () {
  const TEXT = {
    en: {
      "nav.live": "Live", "nav.batches": "Batches", "nav.recipes": "Recipes",
      batches: "Batches", from: "From", to: "To", outcome: "Outcome", recipe: "Recipe", search: "Search", searchHint: "Batch id, operator or grain lot",
      all: "All", filter: "Filter", clear: "Clear", report: "Report", exports: "Export", started: "Started", ended: "Ended", operator: "Operator",
      grainLot: "Grain lot", trips: "trips", warnings: "warnings", phase: "Phase", count: "{0} of {1} batches", countMore: "{0} of {1} batches (the newest {2} shown)",
      none: "No batch matches.", noneYet: "No batches yet.", loading: "Loading…", failed: "Could not load: {0}",
      "outcome.completed": "Completed", "outcome.aborted": "Aborted", "outcome.held": "Held", "outcome.unfinished": "Unfinished",
      "outcome.running": "Running", "outcome.interrupted": "Interrupted",
      "table.samples": "Samples", "table.events": "Events", "table.fractions": "Fractions", utcNote: "Exports give times in UTC.",
      effective: "Effective recipe", version: "version {0}", "origin.uploaded": "Uploaded by {0} on {1} ({2}).",
      "origin.configured": "From the configured file {0} (Recipe:Path).", "origin.built-in": "The built-in recipe.",
      "origin.given": "From the file given to the service (--recipe).", runningNote: "Batch {0} is running on this recipe: a new recipe can be uploaded once it has ended.",
      idleNote: "The next start uses this recipe.", showJson: "As JSON", upload: "Upload a recipe", uploadNote: "A recipe file (JSON) of at most {0} KiB. It is checked as 'stillcontrol recipe check' checks it; if it passes, the next start uses it. Kept in {1}.",
      file: "Recipe file", check: "Check", uploadUse: "Upload and use", chooseFile: "Choose a recipe file first.",
      valid: "Valid: {0}", invalid: "Not valid: the recipe check found {0} problem(s).", used: "In use: {0}", refusedUpload: "Not used: {0}",
      supervisorOnly: "Only a supervisor uploads recipes.", history: "Uploads", noHistory: "No recipe uploaded yet.",
      historyLine: "{0} · {1} · version {2} · {3} · {4}",
    },
    "zh-CN": {
      "nav.live": "实时", "nav.batches": "批次", "nav.recipes": "工艺",
      batches: "批次", from: "起始日期", to: "截止日期", outcome: "结果", recipe: "工艺", search: "搜索", searchHint: "批次号、操作员或粮食批号",
      all: "全部", filter: "筛选", clear: "清除", report: "报告", exports: "导出", started: "开始", ended: "结束", operator: "操作员",
      grainLot: "粮食批号", trips: "次跳闸", warnings: "次警告", phase: "阶段", count: "共 {1} 批，符合 {0} 批", countMore: "共 {1} 批，符合 {0} 批（显示最新 {2} 批）",
      none: "没有符合条件的批次。", noneYet: "还没有批次。", loading: "加载中……", failed: "无法加载：{0}",
      "outcome.completed": "已完成", "outcome.aborted": "已中止", "outcome.held": "暂停中", "outcome.unfinished": "未结束",
      "outcome.running": "运行中", "outcome.interrupted": "已中断",
      "table.samples": "采样数据", "table.events": "事件", "table.fractions": "接酒段", utcNote: "导出文件中的时间为 UTC。",
      effective: "当前工艺", version: "版本 {0}", "origin.uploaded": "由 {0} 于 {1} 上传（{2}）。",
      "origin.configured": "来自配置文件 {0}（Recipe:Path）。", "origin.built-in": "内置工艺。",
      "origin.given": "来自启动服务时指定的文件（--recipe）。", runningNote: "批次 {0} 正在按此工艺运行：结束后才能上传新工艺。",
      idleNote: "下一次开始将使用此工艺。", showJson: "JSON 格式", upload: "上传工艺", uploadNote: "工艺文件（JSON），最大 {0} KiB。按 “stillcontrol recipe check” 的规则检查；通过后下一次开始即使用。保存在 {1}。",
      file: "工艺文件", check: "检查", uploadUse: "上传并使用", chooseFile: "请先选择工艺文件。",
      valid: "有效：{0}", invalid: "无效：检查发现 {0} 个问题。", used: "已启用：{0}", refusedUpload: "未启用：{0}",
      supervisorOnly: "只有主管可以上传工艺。", history: "上传记录", noHistory: "尚未上传过工艺。",
      historyLine: "{0} · {1} · 版本 {2} · {3} · {4}",
    },
  };
  const PHASES = {
    en: { idle: "Idle", loading: "Loading", sealed: "Sealed", heads: "Heads", hearts: "Hearts", tails: "Tails", steaming: "Steaming", complete: "Complete", aborted: "Aborted" },
    "zh-CN": { idle: "空闲", loading: "上甑", sealed: "盖盖", heads: "酒头", hearts: "酒身", tails: "酒尾", steaming: "蒸粮", complete: "完成", aborted: "已中止" },
  };
  const $ = id => document.getElementById(id);
  const lang = () => (document.documentElement.lang === "zh-CN" ? "zh-CN" : "en");
  function t(key, ...args) { return StillText.translate(TEXT, lang(), key, args); }
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }
  const txt = key => el("span", { "data-bt": key });

  let me = null, zone = undefined, listing = null, recipe = null, lastCheck = null;

  // --- The pages and the navigation ------------------------------------------------------------------------------------
  function build() {
    const live = $("panel-view");
    if (live && !live.dataset.page) live.dataset.page = "live";
    const after = live || document.querySelector("main:last-of-type");
    const batches = el("main", { id: "batches-view", "data-page": "batches", class: "hidden" },
      el("section", { class: "card wide" },
        el("h2", { "data-bt": "batches" }),
        el("form", { id: "batch-filter", class: "filters" },
          el("label", {}, txt("from"), el("input", { id: "bf-from", type: "date", name: "from" })),
          el("label", {}, txt("to"), el("input", { id: "bf-to", type: "date", name: "to" })),
          el("label", {}, txt("outcome"), el("select", { id: "bf-outcome", name: "outcome" })),
          el("label", {}, txt("recipe"), el("select", { id: "bf-recipe", name: "recipe" })),
          el("label", { class: "grow" }, txt("search"), el("input", { id: "bf-search", type: "search", name: "search", maxlength: "200", autocapitalize: "none" })),
          el("div", { class: "filter-buttons" },
            el("button", { id: "bf-apply", type: "submit", class: "primary", "data-bt": "filter" }),
            el("button", { id: "bf-clear", type: "button", class: "ghost", "data-bt": "clear" }))),
        el("p", { id: "batch-count", class: "quiet", role: "status" }),
        el("p", { id: "batch-error", class: "error", role: "alert" }),
        el("ul", { id: "batch-list", class: "batch-list" }),
        el("p", { class: "quiet", "data-bt": "utcNote" })));
    const recipes = el("main", { id: "recipes-view", "data-page": "recipes", class: "hidden" },
      el("section", { id: "recipe-card", class: "card wide" },
        el("h2", { "data-bt": "effective" }),
        el("div", { class: "recipe-head" }, el("b", { id: "recipe-eff-name" }), el("span", { id: "recipe-eff-version", class: "quiet" })),
        el("p", { id: "recipe-origin", class: "quiet" }),
        el("p", { id: "recipe-state", class: "note" }),
        el("p", { id: "recipe-problem", class: "error", role: "alert" }),
        el("pre", { id: "recipe-text", class: "recipe-text" }),
        el("details", {}, el("summary", { "data-bt": "showJson" }), el("pre", { id: "recipe-json", class: "recipe-text" }))),
      el("section", { id: "upload-card", class: "card wide" },
        el("h2", { "data-bt": "upload" }),
        el("p", { id: "upload-note", class: "quiet" }),
        el("p", { id: "upload-forbidden", class: "quiet hidden", "data-bt": "supervisorOnly" }),
        el("div", { id: "upload-form", class: "upload-form" },
          el("label", {}, txt("file"), el("input", { id: "recipe-file", type: "file", accept: ".json,application/json,text/plain" })),
          el("div", { class: "filter-buttons" },
            el("button", { id: "recipe-check", type: "button", class: "ghost big", "data-bt": "check" }),
            el("button", { id: "recipe-upload", type: "button", class: "primary big", "data-bt": "uploadUse" }))),
        el("p", { id: "recipe-result", class: "result", role: "status", "aria-live": "polite" }),
        el("ul", { id: "recipe-messages", class: "messages" })),
      el("section", { class: "card wide" },
        el("h2", { "data-bt": "history" }),
        el("ul", { id: "recipe-history", class: "history" })));
    after.after(batches, recipes);

    $("batch-filter").addEventListener("submit", ev => { ev.preventDefault(); loadBatches(); });
    $("bf-clear").addEventListener("click", () => {
      for (const id of ["bf-from", "bf-to", "bf-outcome", "bf-recipe", "bf-search"]) $(id).value = "";
      loadBatches();
    });
    $("recipe-check").addEventListener("click", () => sendRecipe(false));
    $("recipe-upload").addEventListener("click", () => sendRecipe(true));
    window.addEventListener("hashchange", () => route(true));
  }

  function page() {
    const wanted = (location.hash || "#live").slice(1);
    return document.querySelector(`main[data-page="${CSS.escape(wanted)}"]`) ? wanted : "live";
  }
  function signedIn() { const login = $("login-view"); return login && login.classList.contains("hidden") && !$("logout").classList.contains("hidden"); }
  let routed = "";
  function route(force) {
    const nav = $("pages");
    const inside = signedIn();
    if (nav) nav.classList.toggle("hidden", !inside);
    const current = page();
    for (const view of document.querySelectorAll("main[data-page]")) view.classList.toggle("hidden", !inside || view.dataset.page !== current);
    if (nav) for (const a of nav.querySelectorAll("[data-page]")) a.classList.toggle("current", a.dataset.page === current);
    // Loaded when the page is opened (or opened again from the navigation), not each time the page's own views change class.
    const key = inside + "|" + current;
    if (!inside || (key === routed && !force)) { routed = key; return; }
    routed = key;
    if (current === "batches") loadBatches();
    if (current === "recipes") loadRecipe();
  }

  function applyLanguage() {
    for (const e of document.querySelectorAll("[data-bt]")) e.textContent = t(e.dataset.bt);
    const search = $("bf-search");
    if (search) search.placeholder = t("searchHint");
    fillSelects();
    if (listing) showBatches(listing);
    if (recipe) showRecipe(recipe);
    if (lastCheck) showCheck(...lastCheck);
  }

  async function who() {
    if (me) return me;
    const response = await fetch("/api/me", { credentials: "same-origin" });
    if (!response.ok) return null;
    me = await response.json();
    return me;
  }

  // --- Batches ---------------------------------------------------------------------------------------------------------
  function when(iso) {
    if (!iso) return "—";
    try {
      return new Intl.DateTimeFormat(lang(), { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false, timeZone: zone }).format(new Date(iso));
    } catch { return new Date(iso).toLocaleString(); }
  }
  function fillSelects() {
    const outcome = $("bf-outcome"), recipeSelect = $("bf-recipe");
    if (!outcome) return;
    const keep = [outcome.value, recipeSelect.value];
    const outcomes = listing ? listing.outcomes : ["completed", "aborted", "held", "unfinished", "running", "interrupted"];
    outcome.replaceChildren(el("option", { value: "", text: t("all") }), ...outcomes.map(o => el("option", { value: o, text: t("outcome." + o) })));
    const recipes = listing ? listing.recipes : [];
    recipeSelect.replaceChildren(el("option", { value: "", text: t("all") }), ...recipes.map(r => el("option", { value: r, text: r })));
    outcome.value = keep[0];
    recipeSelect.value = recipes.includes(keep[1]) ? keep[1] : "";
  }
  async function loadBatches() {
    const params = new URLSearchParams();
    for (const [id, name] of [["bf-from", "from"], ["bf-to", "to"], ["bf-outcome", "outcome"], ["bf-recipe", "recipe"], ["bf-search", "search"]]) {
      const v = $(id).value.trim();
      if (v) params.set(name, v);
    }
    $("batch-error").textContent = "";
    $("batch-count").textContent = t("loading");
    let response, body;
    try {
      response = await fetch("/api/batches?" + params.toString(), { credentials: "same-origin" });
      body = await response.json().catch(() => ({}));
    } catch (e) { $("batch-error").textContent = t("failed", String(e)); return; }
    if (response.status === 401) { location.reload(); return; }
    if (!response.ok) { $("batch-count").textContent = ""; $("batch-error").textContent = t("failed", body.error || response.statusText); return; }
    listing = body;
    zone = body.timeZone || undefined;
    fillSelects();
    showBatches(body);
  }
  function showBatches(body) {
    const shown = body.batches.length;
    $("batch-count").textContent = body.total === 0 ? t("noneYet") : shown < body.matching ? t("countMore", body.matching, body.total, shown) : t("count", body.matching, body.total);
    const list = $("batch-list");
    if (body.total > 0 && body.matching === 0) { list.replaceChildren(el("li", { class: "empty", text: t("none") })); return; }
    list.replaceChildren(...body.batches.map(b => {
      const outcome = b.activity && b.outcome === "unfinished" ? b.activity : b.outcome;
      const id = encodeURIComponent(b.id);
      const meta = [
        [t("started"), when(b.startedAt)], [t("ended"), when(b.endedAt)], [t("recipe"), b.recipe],
        [t("phase"), (PHASES[lang()][b.phase] || b.phase)], [t("operator"), b.operator || "—"], [t("grainLot"), b.grainLot || "—"],
      ];
      const exports = [];
      for (const table of body.tables) for (const format of body.formats) {
        exports.push(el("a", { class: "btn", href: `/api/batches/${id}/export?table=${table}&format=${format}`, download: "", "data-export": `${table}.${format}`,
          text: `${t("table." + table)} · ${format.toUpperCase()}` }));
      }
      return el("li", { "data-id": b.id },
        el("div", { class: "b-head" }, el("b", { class: "b-id", text: b.id }), el("span", { class: "outcome o-" + outcome, text: t("outcome." + outcome) })),
        el("dl", { class: "b-meta" }, ...meta.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })])),
        (b.trips || b.warnings) ? el("p", { class: "b-alarms", text: `${b.trips} ${t("trips")} · ${b.warnings} ${t("warnings")}` }) : null,
        el("div", { class: "b-actions" },
          el("a", { class: "btn primary", href: `/batches/${id}/report`, target: "_blank", rel: "noopener", "data-report": "", text: t("report") }),
          el("details", { class: "exports" }, el("summary", { class: "btn ghost", text: t("exports") }), el("div", { class: "export-links" }, ...exports))));
    }));
  }

  // --- Recipes ---------------------------------------------------------------------------------------------------------
  async function loadRecipe() {
    const [response, user] = await Promise.all([fetch("/api/recipe", { credentials: "same-origin" }), who()]);
    const body = await response.json().catch(() => ({}));
    if (response.status === 401) { location.reload(); return; }
    if (!response.ok) { $("recipe-problem").textContent = t("failed", body.error || response.statusText); return; }
    recipe = body;
    if (body.timeZone) zone = body.timeZone;
    showRecipe(body, user);
  }
  function showRecipe(r, user) {
    user = user || me;
    $("recipe-eff-name").textContent = r.name;
    $("recipe-eff-version").textContent = " · " + t("version", r.version);
    const o = r.origin || { kind: "given" };
    $("recipe-origin").textContent = o.kind === "uploaded" ? t("origin.uploaded", o.user, when(o.at), o.file) : o.kind === "configured" ? t("origin.configured", o.file) : t("origin." + o.kind);
    const state = $("recipe-state");
    state.textContent = r.batchRunning ? t("runningNote", r.batchId || "") : t("idleNote");
    state.className = r.batchRunning ? "note warning" : "note";
    $("recipe-problem").textContent = r.problem || "";
    $("recipe-text").textContent = r.text;
    $("recipe-json").textContent = r.json;
    $("upload-note").textContent = t("uploadNote", Math.round(r.limitBytes / 1024), r.folder);
    const supervisor = user && user.role === "supervisor";
    $("upload-form").classList.toggle("hidden", !supervisor);
    $("upload-forbidden").classList.toggle("hidden", !!supervisor);
    $("recipe-upload").disabled = !!r.batchRunning;
    $("recipe-history").replaceChildren(...(r.uploads.length
      ? r.uploads.map(u => el("li", { text: t("historyLine", when(u.at), u.name, u.version, u.user, u.uploadedAs) }))
      : [el("li", { class: "quiet", text: t("noHistory") })]));
  }
  async function sendRecipe(apply) {
    const file = $("recipe-file").files[0];
    if (!file) { showCheck(null, { messages: [], reason: t("chooseFile") }, apply); return; }
    const user = await who();
    $("recipe-result").className = "result";
    $("recipe-result").textContent = t("loading");
    let response, body;
    try {
      response = await fetch((apply ? "/api/recipe" : "/api/recipe/check") + "?file=" + encodeURIComponent(file.name), {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": (user && user.csrfToken) || "" },
        body: file,
      });
      body = await response.json().catch(() => ({}));
    } catch (e) { showCheck(null, { messages: [], reason: String(e) }, apply); return; }
    if (response.status === 401) { location.reload(); return; }
    showCheck(response.status, body, apply);
    if (apply && body.accepted) loadRecipe();
  }
  function showCheck(status, body, apply) {
    lastCheck = [status, body, apply];
    const result = $("recipe-result");
    const messages = body.messages || [];
    const problems = (body.errors || []).length;
    let text;
    if (status === null) text = body.reason;
    else if (status === 422 && problems) text = t("invalid", problems);
    else if (body.accepted && apply) text = t("used", body.reason || "");
    else if (body.accepted) text = t("valid", body.recipe ? body.recipe.name : "");
    else text = t("refusedUpload", body.reason || body.error || messages[0] || "");
    result.textContent = text;
    result.className = "result " + (body.accepted ? "accepted" : "refused");
    $("recipe-messages").replaceChildren(...messages.map((m, i) => el("li", { class: body.accepted || (problems === 0 && i === 0) ? "ok" : "bad", text: m })));
  }

  // --- Following sign-in and language ----------------------------------------------------------------------------------
  function start() {
    build();
    applyLanguage();
    new MutationObserver(() => applyLanguage()).observe(document.documentElement, { attributes: true, attributeFilter: ["lang"] });
    const watch = new MutationObserver(() => { if (!signedIn()) { me = null; listing = null; recipe = null; lastCheck = null; } route(); });
    for (const id of ["login-view", "panel-view", "logout"]) if ($(id)) watch.observe($(id), { attributes: true, attributeFilter: ["class"] });
    route();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
