// StillControl commissioning page (supervisors): readings with their quality, 1-Wire ids, bus counters, and the manual output test.
// The test is asked of the control loop; this page keeps it alive while open and stops it when the page goes away.
"use strict";
(function () {
  const TEXT = {
    en: {
      title: "Commissioning", "nav.panel": "Live", "nav.batches": "Batches", "nav.recipes": "Recipes", "nav.commissioning": "Commissioning", toPanel: "To the panel",
      signInFirst: "Sign in on the panel first.", needsSupervisor: "{0} is {1}: commissioning needs a supervisor.",
      testTitle: "Manual output test", testWarning: "Drives one output by hand while no batch runs; every other output stays safe. It goes back to safe by itself.",
      stopTest: "Stop: back to safe", opening: "Opening, %", receiver: "Receiver", drive: "Drive",
      "out.steam-valve": "Steam valve", "out.cooling-valve": "Cooling valve", "out.diverter": "Receiver diverter",
      outputsNow: "Outputs now", isolation: "Isolation valve", horn: "Horn", open: "open", shut: "shut", on: "on", off: "off", none: "none (safe)",
      readings: "Readings and their quality", channelSource: "Channel and source", value: "Value", quality: "Quality",
      oneWire: "1-Wire thermometers", buses: "Buses", confirmTitle: "Drive this output?", cancel: "Cancel", confirmYes: "Drive it",
      confirmValve: "{0} to {1} % for {2} s, then back to safe. Every other output stays safe.",
      confirmDiverter: "Receiver diverter to {0} for {1} s, then back to safe. Every other output stays safe.",
      confirmSteam: "Steam may reach the still if the isolation valve is not fitted. Make sure nobody is at the lid.",
      idle: "No output test: every output is safe.", running: "{0} by {1}: back to safe in {2} s", ok: "good", fault: "fault",
      lastOutcome: "Last test: {0}", accepted: "Done: {0}", refused: "Refused: {0}", failed: "Not sent: {0}",
      batchRunning: "Batch {0} is running ({1}): outputs are tested only while no batch runs.", noBatch: "No batch runs.",
      trips: "Trip: {0}", simulatedBus: "Simulated still: no 1-Wire bus; the still model gives the readings.",
      simulatedBuses: "Simulated still: no Modbus line, so no frame counters.", noneFound: "None found.", unused: "not used by any channel",
      missing: "configured, not on the bus: {0}", notOpened: "not opened: {0}", noBuses: "No bus with counters.",
      interlock: "Steam may not open: {0}", switchLanguage: "中文",
    },
    "zh-CN": {
      title: "调试", "nav.panel": "实时", "nav.batches": "批次", "nav.recipes": "工艺", "nav.commissioning": "调试", toPanel: "返回主面板",
      signInFirst: "请先在主面板登录。", needsSupervisor: "{0} 的角色是 {1}：调试需要主管权限。",
      testTitle: "手动输出测试", testWarning: "不在批次中时手动驱动一个输出；其余输出保持安全状态。到时自动恢复安全状态。",
      stopTest: "停止：恢复安全", opening: "开度，%", receiver: "接酒容器", drive: "驱动",
      "out.steam-valve": "蒸汽阀", "out.cooling-valve": "冷却水阀", "out.diverter": "接酒换向阀",
      outputsNow: "当前输出", isolation: "切断阀", horn: "喇叭", open: "开", shut: "关", on: "响", off: "停", none: "无（安全）",
      readings: "测量值及其质量", channelSource: "通道及来源", value: "数值", quality: "质量",
      oneWire: "1-Wire 温度探头", buses: "总线", confirmTitle: "驱动此输出？", cancel: "取消", confirmYes: "驱动",
      confirmValve: "{0} 开到 {1} %，持续 {2} 秒，然后恢复安全。其余输出保持安全。",
      confirmDiverter: "接酒换向阀切到 {0}，持续 {1} 秒，然后恢复安全。其余输出保持安全。",
      confirmSteam: "如未装切断阀，蒸汽可能进入甑桶。请确认甑盖旁无人。",
      idle: "无输出测试：所有输出处于安全状态。", running: "{0}（{1}）：{2} 秒后恢复安全", ok: "正常", fault: "故障",
      lastOutcome: "上次测试：{0}", accepted: "已执行：{0}", refused: "被拒绝：{0}", failed: "未发送：{0}",
      batchRunning: "批次 {0} 正在运行（{1}）：只有不在批次中时才能测试输出。", noBatch: "没有运行中的批次。",
      trips: "跳闸：{0}", simulatedBus: "模拟甑桶：没有 1-Wire 总线；测量值来自甑桶模型。",
      simulatedBuses: "模拟甑桶：没有 Modbus 线路，因此没有帧计数。", noneFound: "未发现。", unused: "未被任何通道使用",
      missing: "已配置但总线上没有：{0}", notOpened: "未能打开：{0}", noBuses: "没有带计数的总线。",
      interlock: "蒸汽不可打开：{0}", switchLanguage: "English",
    },
  };
  const KEEP_ALIVE_MS = 2000, REFRESH_MS = 1000;
  const $ = id => document.getElementById(id);

  let lang = StillText.chooseLanguage();
  let csrf = null, who = null, survey = null, testId = null, lastResult = null, timer = null, keepTimer = null;

  function t(key, ...args) { return StillText.translate(TEXT, lang, key, args); }
  function channelName(c) { return StillText.channelName(lang, c); }
  function li(text, cls) { const e = document.createElement("li"); if (cls) e.className = cls; e.textContent = text; return e; }
  function number(v, digits) { return v === null || v === undefined ? "—" : Number(v).toFixed(digits); }
  function applyLanguage() {
    document.documentElement.lang = lang;
    for (const e of document.querySelectorAll("[data-i18n]")) e.textContent = t(e.dataset.i18n);
    $("lang").textContent = t("switchLanguage");
    if (survey) show(survey);
    if (lastResult) showResult(lastResult);
  }
  $("lang").addEventListener("click", () => {
    lang = lang === "en" ? "zh-CN" : "en";
    StillText.saveLanguage(lang);
    applyLanguage();
  });

  async function boot() {
    applyLanguage();
    const me = await fetch("/api/me", { credentials: "same-origin" });
    if (!me.ok) { deny(t("signInFirst")); return; }
    who = await me.json();
    csrf = who.csrfToken;
    $("who").textContent = `${who.user} · ${who.role}`;
    if (who.role !== "supervisor") { deny(t("needsSupervisor", who.user, who.role)); return; }
    $("c-view").classList.remove("hidden");
    await refresh();
    timer = setInterval(refresh, REFRESH_MS);
  }
  function deny(text) {
    $("c-denied").classList.remove("hidden");
    $("c-view").classList.add("hidden");
    $("c-denied-text").textContent = text;
  }

  async function refresh() {
    const response = await fetch("/api/commissioning", { credentials: "same-origin" }).catch(() => null);
    if (!response) return;
    // Signed out meanwhile (another tab, the session's end) or no longer a supervisor: the page says so and stops asking.
    if (response.status === 401 || response.status === 403) {
      clearInterval(timer);
      stopKeepingAlive();
      deny(response.status === 401 ? t("signInFirst") : t("needsSupervisor", who ? who.user : "", who ? who.role : ""));
      return;
    }
    if (!response.ok) return;
    survey = await response.json();
    show(survey);
  }

  // A list is rebuilt only when what it shows changed, so nothing under a finger is replaced mid-tap.
  const shown = new Map();
  function update(id, data, build) {
    const signature = lang + "|" + JSON.stringify(data);
    if (shown.get(id) === signature) return;
    shown.set(id, signature);
    $(id).replaceChildren(...build());
  }

  function show(s) {
    $("still-name").textContent = `StillControl · ${s.still}`;
    const test = s.test;
    const status = $("c-test-status");
    status.classList.toggle("active", test.active);
    status.dataset.active = test.active ? "true" : "false";
    if (test.active) {
      const left = Math.max(0, Math.ceil((Date.parse(test.until) - Date.parse(s.at)) / 1000));
      const what = test.output === "diverter" ? `${t("out.diverter")} → ${test.receiver}` : `${t("out." + test.output)} ${number(test.percent, 0)} %`;
      status.textContent = t("running", what, test.operator, left);
    } else {
      status.textContent = t("idle") + (test.lastOutcome ? " " + t("lastOutcome", test.lastOutcome) : "");
      if (testId) stopKeepingAlive();
    }
    $("c-stop").classList.toggle("hidden", !test.active);
    for (const b of document.querySelectorAll(".c-drive")) b.disabled = test.active || s.batchRunning;

    const o = s.outputs;
    $("c-steam").textContent = number(o.steamValvePercent, 0) + " %";
    $("c-cooling").textContent = number(o.coolingValvePercent, 0) + " %";
    $("c-diverter").textContent = o.receiver || t("none");
    $("c-isolation").textContent = o.steamIsolationOpen ? t("open") : t("shut");
    $("c-horn").textContent = o.horn ? t("on") : t("off");
    $("c-phase").textContent = s.batchRunning ? t("batchRunning", s.batchId || "", s.phase) : t("noBatch");
    update("c-blocking", [s.trips, s.interlocks], () => [...s.trips.map(c => li(t("trips", c))), ...s.interlocks.map(i => li(t("interlock", i)))]);

    update("c-receiver", s.receivers, () => s.receivers.map(r => { const e = document.createElement("option"); e.value = r; e.textContent = r; return e; }));

    update("c-readings", s.readings, () => s.readings.map(r => {
      const row = document.createElement("tr");
      row.dataset.channel = r.channel;
      row.dataset.status = r.status;
      // The channel, and under it where it comes from: the configuration key and the source's own words (device, last error).
      const name = document.createElement("td"); name.textContent = channelName(r.channel);
      const source = document.createElement("span"); source.className = "detail"; source.textContent = r.detail ? `${r.key} · ${r.detail}` : r.key;
      name.append(source);
      const value = document.createElement("td"); value.className = "num";
      value.textContent = r.value === null ? "—" : `${number(r.value, r.unit === "" ? 0 : 2)} ${r.unit}`;
      const quality = document.createElement("td"); quality.className = r.status === "ok" ? "ok quality" : "bad quality";
      quality.textContent = r.status === "ok" ? t("ok") : `${t("fault")}: ${r.fault}`;
      row.append(name, value, quality);
      return row;
    }));

    update("c-onewire", [s.simulated, s.oneWire, s.missingOneWire], () => {
      if (s.simulated) return [li(t("simulatedBus"))];
      const items = s.oneWire.map(w => li(`${w.busId}/${w.deviceId} → ${w.channel ? `${channelName(w.channel)} (${w.key})` : t("unused")}`));
      items.push(...s.missingOneWire.map(m => li(t("missing", m), "bad")));
      return items.length ? items : [li(t("noneFound"))];
    });
    update("c-buses", [s.simulated, s.buses, s.notOpened], () => {
      if (s.simulated) return [li(t("simulatedBuses"))];
      const items = s.buses.map(b => li(`${b.name}: ${b.health}`));
      items.push(...s.notOpened.map(n => li(t("notOpened", n), "bad")));
      return items.length ? items : [li(t("noBuses"))];
    });
  }

  // --- The output test ----------------------------------------------------------------------------------------------------
  for (const button of document.querySelectorAll(".c-drive")) button.addEventListener("click", () => ask(button.dataset.output));
  function ask(output) {
    const seconds = survey ? survey.testSeconds : 30;
    const body = { output };
    let text;
    if (output === "diverter") {
      body.receiver = $("c-receiver").value;
      text = t("confirmDiverter", body.receiver, seconds);
    } else {
      const input = $(output === "steam-valve" ? "c-steam-percent" : "c-cooling-percent");
      body.percent = Number(input.value);
      text = t("confirmValve", t("out." + output), input.value, seconds) + (output === "steam-valve" && body.percent > 0 ? " " + t("confirmSteam") : "");
    }
    $("c-confirm-text").textContent = text;
    const dialog = $("c-confirm");
    dialog.returnValue = "";
    dialog.onclose = () => { if (dialog.returnValue === "yes") start(body); };
    dialog.showModal();
  }
  $("c-confirm-no").addEventListener("click", () => $("c-confirm").close("no"));

  async function post(path, body, keepalive) {
    return fetch(path, {
      method: "POST", credentials: "same-origin", keepalive: !!keepalive,
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf || "" },
      body: JSON.stringify(body || {}),
    });
  }
  async function start(body) {
    const result = $("c-result");
    result.className = "result"; result.textContent = "…";
    let response, answer;
    try {
      response = await post("/api/commissioning/test", body);
      answer = await response.json().catch(() => ({}));
    } catch (e) { showResult({ failed: String(e) }); return; }
    if (!response.ok) { showResult({ failed: answer.error || response.statusText }); return; }
    showResult(answer);
    if (answer.accepted) {
      testId = answer.testId;
      keepTimer = setInterval(keepAlive, KEEP_ALIVE_MS);
    }
    refresh();
  }
  async function keepAlive() {
    if (!testId) return;
    const response = await post("/api/commissioning/keep-alive", { testId }).catch(() => null);
    if (response && (response.status === 409 || response.status === 401 || response.status === 403)) stopKeepingAlive();
  }
  function stopKeepingAlive() {
    testId = null;
    if (keepTimer) { clearInterval(keepTimer); keepTimer = null; }
  }
  $("c-stop").addEventListener("click", async () => {
    stopKeepingAlive();
    const response = await post("/api/commissioning/stop", {}).catch(() => null);
    const answer = response ? await response.json().catch(() => ({})) : { failed: "no answer" };
    showResult(response && response.ok ? answer : { failed: answer.error || answer.failed || "" });
    refresh();
  });
  function showResult(body) {
    lastResult = body;
    const result = $("c-result");
    if (body.failed !== undefined) { result.className = "result refused"; result.textContent = t("failed", body.failed); return; }
    result.className = "result " + (body.accepted ? "accepted" : "refused");
    result.textContent = body.accepted ? t("accepted", body.reason) : t("refused", body.reason);
  }
  // The page going away (closed, navigated, hidden on a phone) ends the test at once; the loop's lease catches anything else.
  function leaving() { if (testId) { const id = testId; stopKeepingAlive(); post("/api/commissioning/stop", { testId: id }, true).catch(() => {}); } }
  window.addEventListener("pagehide", leaving);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "hidden") leaving(); });

  boot();
})();
