// Shared by the plant's pages: texts in zh-CN and en, sign-in, the language switch, small formatters.
"use strict";
const Plant = (() => {
  const texts = {
    en: {
      title: "Plant board", signIn: "Sign in", user: "User", password: "Password", logout: "Sign out", back: "← Plant board",
      noStills: "No still has been seen yet. Stills appear by themselves when they publish under the topic root.",
      online: "online", offline: "offline", silent: "silent", unknown: "unknown", phase: "Phase", elapsed: "Elapsed", strength: "Strength",
      cooling: "Cooling", alarms: "Alarms", dataAge: "Data age", batch: "Batch", held: "HELD", coverLayer: "cover the next layer",
      "on-target": "on target", "off-target": "off target", over: "over maximum", standby: "standby", idle: "—", noData: "no data yet", none: "none",
      stills: "stills", alarmsActive: "with alarms", live: "live", reconnecting: "reconnecting…", trend: "Last minutes",
      channels: "Readings", events: "Events", steam: "Steam valve", coolingValve: "Cooling valve", receiver: "Receiver", target: "target",
      notSeen: "This still has not been seen.", wrong: "Wrong user name or password.", backlog: "backlog", language: "中文",
      phases: { idle: "idle", loading: "loading", sealed: "sealed", heads: "heads", hearts: "hearts", tails: "tails", steaming: "steaming", complete: "complete", aborted: "aborted" },
    },
    "zh-CN": {
      title: "车间看板", signIn: "登录", user: "用户", password: "密码", logout: "退出", back: "← 车间看板",
      noStills: "还没有看到任何甑桶。甑桶在主题根下发布后会自动出现。",
      online: "在线", offline: "离线", silent: "无数据", unknown: "未知", phase: "阶段", elapsed: "已用时", strength: "酒度",
      cooling: "冷却", alarms: "报警", dataAge: "数据时效", batch: "批次", held: "已保持", coverLayer: "请上下一层料",
      "on-target": "达标", "off-target": "偏离", over: "超上限", standby: "待出酒", idle: "—", noData: "尚无数据", none: "无",
      stills: "台甑桶", alarmsActive: "有报警", live: "实时", reconnecting: "正在重连…", trend: "最近几分钟",
      channels: "读数", events: "事件", steam: "蒸汽阀", coolingValve: "冷却水阀", receiver: "接酒", target: "目标",
      notSeen: "尚未看到这台甑桶。", wrong: "用户名或密码错误。", backlog: "积压", language: "English",
      phases: { idle: "空闲", loading: "上甑", sealed: "盖盖", heads: "酒头", hearts: "酒身", tails: "酒尾", steaming: "蒸粮", complete: "完成", aborted: "中止" },
    },
  };
  const lang = document.documentElement.lang === "zh-CN" ? "zh-CN" : "en";
  const t = (key) => texts[lang][key] ?? texts.en[key] ?? key;
  const phase = (p) => texts[lang].phases[p] ?? p;

  function translate() {
    document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
    document.title = "StillControl · " + t("title");
    const button = document.getElementById("lang");
    button.textContent = t("language");
    button.onclick = () => {
      document.cookie = "stillcontrol_lang=" + (lang === "zh-CN" ? "en" : "zh-CN") + "; path=/; SameSite=Strict; max-age=31536000";
      location.reload();
    };
  }

  // GET with the session cookie; null (and the sign-in form shown) when not signed in.
  async function get(path) {
    const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (response.status === 401) { showLogin(); return null; }
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  }

  let started = null;
  function showLogin() {
    const form = document.getElementById("login");
    form.hidden = false;
    form.onsubmit = async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      const response = await fetch("/api/login", {
        method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: data.get("user"), password: data.get("password") }),
      });
      if (!response.ok) { document.getElementById("login-error").textContent = t("wrong"); return; }
      const body = await response.json();
      sessionStorage.setItem("csrfToken", body.csrfToken);
      form.hidden = true;
      if (started) started();
    };
  }

  async function whoAmI() {
    const me = await get("/api/me");
    if (!me) return false;
    sessionStorage.setItem("csrfToken", me.csrfToken);
    document.getElementById("who").textContent = me.user + " (" + me.role + ")";
    const logout = document.getElementById("logout");
    logout.hidden = false;
    logout.onclick = async () => {
      await fetch("/api/logout", { method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": sessionStorage.getItem("csrfToken") || "" } });
      location.reload();
    };
    return true;
  }

  // Runs start() once signed in (now, or after the form).
  async function start(run) {
    translate();
    started = async () => { if (await whoAmI()) run(); };
    await started();
  }

  const pad = (n) => String(n).padStart(2, "0");
  function duration(seconds) {
    if (seconds == null) return "—";
    const s = Math.max(0, Math.round(seconds));
    return Math.floor(s / 3600) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
  }
  function age(seconds) {
    if (seconds == null) return t("noData");
    if (seconds < 90) return Math.round(seconds) + " s";
    if (seconds < 5400) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }
  const number = (value, digits, unit) => value == null ? "—" : value.toFixed(digits) + (unit ? " " + unit : "");
  function element(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text != null) el.textContent = text;
    return el;
  }
  function stillUrl(view) {
    return "/still?site=" + encodeURIComponent(view.site) + "&name=" + encodeURIComponent(view.name);
  }
  function status(view) {
    if (view.online) return "online";
    if (view.silent) return "silent";
    return view.availability === "offline" ? "offline" : "unknown";
  }

  return { t, phase, start, get, duration, age, number, element, stillUrl, status, lang };
})();
