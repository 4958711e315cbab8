// StillControl operator panel: signs in, follows the still over Server-Sent Events, sends commands with the CSRF token.
"use strict";
(function () {
  const TEXT = {
    en: {
      connection: "Live connection", signOut: "Sign out", signInTitle: "Sign in to the still", userName: "User name", password: "Password",
      signIn: "Sign in", phase: "Phase", batch: "Batch", recipe: "Recipe", since: "Since", commands: "Commands", alarms: "Alarms",
      noAlarms: "No alarms.", interlocks: "Interlocks", valves: "Valves", steamValve: "Steam valve", coolingValve: "Cooling valve",
      receivers: "Receivers", inUse: "In use", strength: "Strength", receiver: "Receiver", cut: "Cut", volume: "Volume L", abv: "% vol",
      readings: "Readings", chart: "Batch chart", events: "Events", startTitle: "Start a batch", startWarning: "Starting opens steam to the still.",
      batchIdOptional: "Batch id (optional)", grainLot: "Grain lot", grainKg: "Grain mass, kg", pit: "Pit or cellar", notes: "Notes",
      cancel: "Cancel", startSteam: "Start: open steam", ack: "Ack", active: "active", cleared: "cleared", trip: "trip", unacknowledged: "not acknowledged",
      "cmd.start": "Start", "cmd.seal": "Seal", "cmd.cut": "Cut", "cmd.hold": "Hold", "cmd.resume": "Resume", "cmd.abort": "Abort", "cmd.ack": "Acknowledge",
      "phase.idle": "Idle", "phase.loading": "Loading", "phase.sealed": "Sealed", "phase.heads": "Heads", "phase.hearts": "Hearts",
      "phase.tails": "Tails", "phase.steaming": "Steaming", "phase.complete": "Complete", "phase.aborted": "Aborted",
      heldBecause: "HELD: {0}", transition: "{0} → {1}: {2} ({3})", noTransition: "No batch has run since the service started.",
      interlocksFor: "What keeps steam closed for {0}:", interlocksClear: "Nothing: steam may open for {0}.",
      isolationOpen: "Isolation valve open", isolationShut: "Isolation valve shut", hornOn: "Horn on", hornOff: "Horn off",
      coolingTarget: "Cooling on {0}: target {1} °C, limit {2} °C", coverAdvised: "Cover the next layer: vapour is near the bed surface.",
      confirmTitle: "Are you sure?", "confirm.seal": "Seal: the lid is on and steam rises for the sealed phase.",
      "confirm.cut": "Cut: move the distillate to the next receiver; steam follows the next phase.",
      "confirm.resume": "Resume: steam opens again.", "confirm.abort": "Abort the batch: steam closes and the batch ends.",
      "confirmYes.seal": "Seal: open steam", "confirmYes.cut": "Cut", "confirmYes.resume": "Resume: open steam", "confirmYes.abort": "Abort the batch",
      accepted: "Done: {0}", refused: "Refused: {0}", failed: "Not sent: {0}", wrongLogin: "Wrong user name or password.",
      tooMany: "Too many failed sign-ins: {0}", viewerOnly: "You can watch; commands need an operator.", lost: "Connection lost: reconnecting…",
      chartEmpty: "The chart starts with the next batch.", metadataNotSaved: "The batch started but its details were not stored: {0}",
      "trace.vapour": "Vapour °C", "trace.distillate": "Distillate °C", "trace.bedSurface": "Bed surface °C", "trace.coolingOut": "Cooling out °C",
      "trace.steamValve": "Steam valve %", "trace.coolingValve": "Cooling valve %", "trace.strength": "Strength % vol",
      "trace.coolingTarget": "Cooling target", "trace.coolingLimit": "Cooling limit",
      good: "good", faulted: "faulted", switchLanguage: "中文",
      "nav.panel": "Still", "nav.commissioning": "Commissioning", outputTest: "OUTPUT TEST: an output is driven by hand (commissioning)", testSafe: "Output test running: back to safe now",
    },
    "zh-CN": {
      connection: "实时连接", signOut: "退出", signInTitle: "登录蒸馏甑", userName: "用户名", password: "密码",
      signIn: "登录", phase: "阶段", batch: "批次", recipe: "工艺", since: "开始于", commands: "操作", alarms: "报警",
      noAlarms: "无报警。", interlocks: "联锁", valves: "阀门", steamValve: "蒸汽阀", coolingValve: "冷却水阀",
      receivers: "接酒容器", inUse: "正在接酒", strength: "酒度", receiver: "容器", cut: "段", volume: "体积 L", abv: "% vol",
      readings: "测量值", chart: "本批曲线", events: "事件", startTitle: "开始新批次", startWarning: "开始将向甑桶通入蒸汽。",
      batchIdOptional: "批次号（可不填）", grainLot: "粮食批号", grainKg: "投粮量，kg", pit: "窖池号", notes: "备注",
      cancel: "取消", startSteam: "开始：通蒸汽", ack: "确认", active: "报警中", cleared: "已恢复", trip: "联锁跳闸", unacknowledged: "未确认",
      "cmd.start": "开始", "cmd.seal": "盖盖", "cmd.cut": "换段", "cmd.hold": "暂停", "cmd.resume": "继续", "cmd.abort": "中止", "cmd.ack": "确认报警",
      "phase.idle": "空闲", "phase.loading": "上甑", "phase.sealed": "盖盖", "phase.heads": "酒头", "phase.hearts": "酒身",
      "phase.tails": "酒尾", "phase.steaming": "蒸粮", "phase.complete": "完成", "phase.aborted": "已中止",
      heldBecause: "已暂停：{0}", transition: "{0} → {1}：{2}（{3}）", noTransition: "服务启动后尚未运行批次。",
      interlocksFor: "{0}阶段蒸汽被以下条件关闭：", interlocksClear: "无：{0}阶段蒸汽可以打开。",
      isolationOpen: "切断阀开", isolationShut: "切断阀关", hornOn: "喇叭响", hornOff: "喇叭停",
      coolingTarget: "冷却控制 {0}：目标 {1} °C，上限 {2} °C", coverAdvised: "请上下一层料：蒸汽已接近料面。",
      confirmTitle: "确定吗？", "confirm.seal": "盖盖：甑盖已盖好，蒸汽将按盖盖阶段加大。",
      "confirm.cut": "换段：流酒换到下一个容器，蒸汽按下一阶段调节。",
      "confirm.resume": "继续：蒸汽将重新打开。", "confirm.abort": "中止本批：关闭蒸汽，批次结束。",
      "confirmYes.seal": "盖盖：通蒸汽", "confirmYes.cut": "换段", "confirmYes.resume": "继续：通蒸汽", "confirmYes.abort": "中止本批",
      accepted: "已执行：{0}", refused: "被拒绝：{0}", failed: "未发送：{0}", wrongLogin: "用户名或密码错误。",
      tooMany: "登录失败次数过多：{0}", viewerOnly: "您可以查看；操作需要操作员权限。", lost: "连接中断，正在重连……",
      chartEmpty: "曲线将从下一批开始。", metadataNotSaved: "批次已开始，但批次信息未保存：{0}",
      "trace.vapour": "甑顶汽温 °C", "trace.distillate": "流酒温度 °C", "trace.bedSurface": "料面温度 °C", "trace.coolingOut": "冷却出水 °C",
      "trace.steamValve": "蒸汽阀 %", "trace.coolingValve": "冷却水阀 %", "trace.strength": "酒度 % vol",
      "trace.coolingTarget": "冷却目标", "trace.coolingLimit": "冷却上限",
      good: "正常", faulted: "故障", switchLanguage: "English",
      "nav.panel": "蒸馏甑", "nav.commissioning": "调试", outputTest: "输出测试中：有输出正被手动驱动（调试）", testSafe: "输出测试中：立即恢复安全状态",
    },
  };
  const STEAM_OPENING = ["seal", "cut", "resume", "abort"];
  const $ = id => document.getElementById(id);

  let lang = StillText.chooseLanguage();
  let csrf = null, role = null, user = null;
  let state = null, chart = { batchId: null, startedAt: null, points: [] };
  let source = null, drawPending = false, lastResult = null;

  function t(key, ...args) { return StillText.translate(TEXT, lang, key, args); }
  function channelName(c) { return StillText.channelName(lang, c); }
  function applyLanguage() {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    for (const e of document.querySelectorAll("[data-i18n-title]")) e.title = t(e.dataset.i18nTitle);
    $("lang").textContent = t("switchLanguage");
    StillChart.legend($("legend"), t);
    if (state) show(state);
    if (lastResult) showResult(...lastResult);
    scheduleChart();
  }
  function timeZone() { return state && state.timeZone ? state.timeZone : undefined; }
  function clock(iso) {
    if (!iso) return "—";
    try {
      return new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false, timeZone: timeZone() }).format(new Date(iso));
    } catch { return new Date(iso).toLocaleTimeString(); }
  }
  function number(v, digits) { return v === null || v === undefined ? "—" : Number(v).toFixed(digits); }
  // A list is rebuilt only when what it shows changed, so a button under a finger is not replaced by an identical one mid-tap.
  const shown = new Map();
  function update(id, data, build) {
    const signature = lang + "|" + role + "|" + JSON.stringify(data);
    if (shown.get(id) === signature) return;
    shown.set(id, signature);
    $(id).replaceChildren(...build());
  }
  function li(text, cls) { const e = document.createElement("li"); if (cls) e.className = cls; e.textContent = text; return e; }

  // --- Signing in -----------------------------------------------------------------------------------------------------
  async function boot() {
    applyLanguage();
    const me = await fetch("/api/me", { credentials: "same-origin" });
    if (me.ok) signedIn(await me.json()); else showLogin();
  }
  function showLogin() {
    $("login-view").classList.remove("hidden");
    $("panel-view").classList.add("hidden");
    $("logout").classList.add("hidden");
    $("who").textContent = "";
    if (source) { source.close(); source = null; }
    $("login-user").focus();
  }
  $("login").addEventListener("submit", async ev => {
    ev.preventDefault();
    $("login-error").textContent = "";
    const response = await fetch("/api/login", {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: $("login-user").value.trim(), password: $("login-password").value }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) { $("login-password").value = ""; signedIn(body); return; }
    $("login-error").textContent = response.status === 429 ? t("tooMany", body.error || "") : response.status === 401 ? t("wrongLogin") : (body.error || response.statusText);
  });
  $("logout").addEventListener("click", async () => {
    await fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf || "" } });
    csrf = null; showLogin();
  });
  $("lang").addEventListener("click", () => {
    lang = lang === "en" ? "zh-CN" : "en";
    StillText.saveLanguage(lang);
    applyLanguage();
  });
  function signedIn(me) {
    csrf = me.csrfToken; role = me.role; user = me.user;
    $("login-view").classList.add("hidden");
    $("panel-view").classList.remove("hidden");
    $("logout").classList.remove("hidden");
    $("who").textContent = `${user} · ${role}`;
    const operator = role === "operator" || role === "supervisor";
    for (const e of document.querySelectorAll(".operator-only")) e.classList.toggle("hidden", !operator);
    for (const e of document.querySelectorAll(".supervisor-only")) e.classList.toggle("hidden", role !== "supervisor");
    // A list of pages with only this one in it is no navigation: it goes until the role has another page to go to.
    const pages = document.querySelectorAll("nav#pages a:not(.hidden)");
    $("pages").classList.toggle("hidden", pages.length < 2);
    connect();
  }

  // --- Following the still ---------------------------------------------------------------------------------------------
  function connect() {
    if (source) source.close();
    source = new EventSource("/api/events");
    source.addEventListener("state", ev => {
      $("connection").className = "dot live";
      const next = JSON.parse(ev.data);
      received(next);
    });
    source.onerror = async () => {
      $("connection").className = "dot lost";
      const me = await fetch("/api/me", { credentials: "same-origin" }).catch(() => null);
      if (me && me.status === 401) showLogin();
    };
  }
  async function received(next) {
    state = next;
    show(next);
    // From the loop's step (the reading) to shown on this page, in ms: the bench reads these (same machine's clock).
    const shownLags = (window.stillcontrolShownLags ||= []);
    shownLags.push(Date.now() - Date.parse(next.live.at));
    if (shownLags.length > 5000) shownLags.shift();
    const batch = next.live.batchId;
    if (batch !== chart.batchId) {
      await loadChart();
    } else if (next.point && (!chart.points.length || next.point[0] > chart.points[chart.points.length - 1][0])) {
      chart.points.push(next.point);
      scheduleChart();
    }
  }
  async function loadChart() {
    const response = await fetch("/api/chart", { credentials: "same-origin" });
    if (response.ok) { chart = await response.json(); scheduleChart(); }
  }
  function scheduleChart() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      StillChart.render($("chart"), { points: chart.points, startedAt: chart.startedAt, phases: state ? state.phases : [], timeZone: timeZone(), lang }, t);
    });
  }

  function show(s) {
    const live = s.live;
    $("still-name").textContent = `StillControl · ${s.still}`;
    $("phase").textContent = t("phase." + live.phase);
    $("phase").dataset.phase = live.phase;
    $("batch-id").textContent = live.batchId || "—";
    $("recipe-name").textContent = s.recipe;
    $("phase-since").textContent = clock(s.phaseStartedAt);
    const held = $("held");
    held.classList.toggle("hidden", !live.held && !s.outputTestRunning);
    held.textContent = live.held ? t("heldBecause", live.holdCause || "") : s.outputTestRunning ? t("outputTest") : "";
    // Whoever may command the still may end a test that drives an output by hand (starting one is the supervisor's).
    $("test-safe").classList.toggle("hidden", !s.outputTestRunning);
    const tr = s.lastTransition;
    $("transition").textContent = tr ? t("transition", t("phase." + tr.from), t("phase." + tr.to), tr.reason, clock(tr.at)) : t("noTransition");
    update("timeline", [s.phases, s.timeZone], () => s.phases.map((p, i) => li(`${t("phase." + p.phase)} ${clock(p.startedAt)}`, i === s.phases.length - 1 && !p.endedAt ? "current" : "")));
    const advice = $("advice");
    // The controller's advice now; otherwise its last advisory, while it is from the running phase.
    const advised = live.coverLayerAdvised;
    const recent = (s.advisories || []).filter(a => s.phaseStartedAt && Date.parse(a.at) >= Date.parse(s.phaseStartedAt) && live.phase !== "idle").slice(-1);
    advice.classList.toggle("hidden", !advised && !recent.length);
    advice.textContent = advised ? `${t("coverAdvised")} ${recent.length ? recent[0].message : ""}` : recent.map(a => `${clock(a.at)} ${a.message}`).join("");

    // Alarms, each with its acknowledge button while unacknowledged.
    update("alarms", s.alarms, () => s.alarms.map(a => {
      const row = document.createElement("li");
      row.className = a.active ? "" : "cleared";
      row.dataset.code = a.code;
      const what = document.createElement("div"); what.className = "what";
      const code = document.createElement("b"); code.textContent = a.code;
      const detail = document.createElement("span");
      detail.textContent = `${a.active ? t("active") : t("cleared")}${a.trip ? " · " + t("trip") : ""}${a.unacknowledged ? " · " + t("unacknowledged") : ""} — ${a.detail}`;
      what.append(code, detail);
      row.append(what);
      if (a.unacknowledged && (role === "operator" || role === "supervisor")) {
        const ack = document.createElement("button");
        ack.type = "button"; ack.className = "ack"; ack.textContent = t("ack");
        ack.addEventListener("click", () => send("ack", a.code));
        row.append(ack);
      }
      return row;
    }));
    $("no-alarms").classList.toggle("hidden", s.alarms.length > 0);

    $("interlocks-for").textContent = s.interlocks.length ? t("interlocksFor", t("phase." + s.interlocksFor)) : "";
    update("interlocks", [s.interlocks, s.interlocksFor], () => (s.interlocks.length ? s.interlocks.map(i => li(i)) : [li(t("interlocksClear", t("phase." + s.interlocksFor)), "clear")]));

    $("steam-valve").textContent = number(live.steamValvePercent, 0) + " %";
    $("cooling-valve").textContent = number(live.coolingValvePercent, 0) + " %";
    $("steam-bar").style.width = Math.max(0, Math.min(100, live.steamValvePercent)) + "%";
    $("cooling-bar").style.width = Math.max(0, Math.min(100, live.coolingValvePercent)) + "%";
    $("isolation").textContent = s.steamIsolationOpen ? t("isolationOpen") : t("isolationShut");
    $("isolation").className = "flag" + (s.steamIsolationOpen ? " on" : "");
    $("horn").textContent = s.horn ? t("hornOn") : t("hornOff");
    $("horn").className = "flag" + (s.horn ? " on" : "");
    $("cooling-target").textContent = s.cooling ? t("coolingTarget", channelName(s.cooling.channel), s.cooling.targetCelsius, s.cooling.maximumCelsius) : "";

    $("receiver").textContent = live.receiver || "—";
    $("strength").textContent = live.strengthPercentVolume == null ? "—" : number(live.strengthPercentVolume, 1) + " % vol";
    update("fractions", s.fractions, () => s.fractions.map(f => {
      const row = document.createElement("tr");
      if (f.inUse) row.className = "in-use";
      for (const [text, cls] of [[f.receiver, ""], [f.grade ? `${t("phase." + f.phase)} · ${f.grade}` : t("phase." + f.phase), ""], [number(f.volumeLitres, 1), "num"], [number(f.abvPercent, 1), "num"]]) {
        const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; row.append(td);
      }
      return row;
    }));

    update("readings", s.readings, () => s.readings.map(r => {
      const row = document.createElement("tr");
      row.dataset.channel = r.channel;
      const name = document.createElement("td"); name.textContent = channelName(r.channel);
      const value = document.createElement("td"); value.className = "num" + (r.quality === "good" ? "" : " bad");
      value.textContent = r.quality === "good" ? `${number(r.value, r.unit === "" ? 0 : 1)} ${r.unit}` : `${t("faulted")}: ${r.fault}`;
      row.append(name, value);
      return row;
    }));

    update("events", [s.events.slice(0, 20), s.timeZone], () => s.events.slice(0, 20).map(e => {
      const item = document.createElement("li");
      const time = document.createElement("time"); time.textContent = clock(e.at);
      item.append(time, document.createTextNode(`${e.kind}: ${e.message}`));
      return item;
    }));
    scheduleChart();
  }

  // --- Commands --------------------------------------------------------------------------------------------------------
  for (const button of document.querySelectorAll("[data-command]")) {
    button.addEventListener("click", () => ask(button.dataset.command));
  }
  function ask(command) {
    if (command === "start") {
      $("start-recipe").value = state ? state.recipe : "";
      $("start-dialog").showModal();
      return;
    }
    if (STEAM_OPENING.includes(command)) {
      $("confirm-title").textContent = t("confirmTitle");
      $("confirm-text").textContent = t("confirm." + command);
      $("confirm-yes").textContent = t("confirmYes." + command);
      $("confirm-yes").dataset.command = "";
      const dialog = $("confirm-dialog");
      dialog.returnValue = "";
      dialog.onclose = () => { if (dialog.returnValue === "yes") send(command); };
      $("confirm-yes").value = "yes";
      dialog.showModal();
      return;
    }
    send(command);
  }
  $("confirm-no").addEventListener("click", () => $("confirm-dialog").close("no"));
  $("start-cancel").addEventListener("click", () => $("start-dialog").close("no"));
  $("start-form").addEventListener("submit", ev => {
    ev.preventDefault();
    const kg = $("start-kg").value.trim();
    const metadata = { grainLot: $("start-lot").value.trim() || null, grainKilograms: kg === "" ? null : Number(kg), pit: $("start-pit").value.trim() || null, notes: $("start-notes").value.trim() || null };
    $("start-dialog").close("yes");
    send("start", $("start-batch").value.trim() || null, metadata);
  });

  $("test-safe").addEventListener("click", async () => {
    const result = $("command-result");
    result.className = "result"; result.textContent = "…";
    try {
      const response = await fetch("/api/commissioning/stop", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" }, body: "{}" });
      if (response.status === 401) { showLogin(); return; }
      const body = await response.json().catch(() => ({}));
      if (!response.ok) { result.className = "result refused"; result.textContent = t("failed", body.error || response.statusText); return; }
      lastResult = [body];
      showResult(body);
    } catch (e) {
      result.className = "result refused"; result.textContent = t("failed", String(e));
    }
  });

  async function send(command, argument, metadata) {
    const result = $("command-result");
    result.className = "result";
    result.textContent = "…";
    let response, body;
    try {
      response = await fetch("/api/commands", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" },
        body: JSON.stringify({ command, argument: argument ?? null, metadata: metadata ?? null }),
      });
      body = await response.json().catch(() => ({}));
    } catch (e) {
      result.className = "result refused"; result.textContent = t("failed", String(e)); return;
    }
    if (response.status === 401) { showLogin(); return; }
    if (!response.ok) { result.className = "result refused"; result.textContent = t("failed", body.error || response.statusText); return; }
    result.dataset.lastCommand = command;
    lastResult = [body];
    showResult(body);
  }
  function showResult(body) {
    const result = $("command-result");
    result.className = "result " + (body.accepted ? "accepted" : "refused");
    result.textContent = body.accepted ? t("accepted", body.reason) : t("refused", body.reason);
    if (body.accepted && body.metadataSaved === false) result.textContent += " — " + t("metadataNotSaved", body.batchId || "");
  }

  boot();
})();
