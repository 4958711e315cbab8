// StillControl panel: what every page shares. The channels' names in both languages, the choice of language (a cookie
// set by the language button, else the browser's languages) and the text lookup with {0}-style arguments.
"use strict";
window.StillText = (() => {
  const CHANNELS = {
    "zh-CN": {
      "steam": "蒸汽温度", "steam-pressure": "蒸汽压力", "vapour": "甑顶汽温", "bed-surface": "料面温度", "cooling-in": "冷却进水温度",
      "cooling-out": "冷却出水温度", "cooling-flow": "冷却水流量", "distillate": "流酒温度", "distillate-flow": "流酒流量", "barometer": "大气压",
      "strength": "酒度", "emergency-stop": "急停", "lid-closed": "甑盖开关", "distillate-check": "流酒温度（校验）", "steam-valve-position": "蒸汽阀位置",
    },
    en: {
      "steam": "Steam", "steam-pressure": "Steam pressure", "vapour": "Vapour (still head)", "bed-surface": "Bed surface", "cooling-in": "Cooling water in",
      "cooling-out": "Cooling water out", "cooling-flow": "Cooling water flow", "distillate": "Distillate", "distillate-flow": "Distillate flow", "barometer": "Air pressure",
      "strength": "Strength", "emergency-stop": "Emergency stop", "lid-closed": "Lid switch", "distillate-check": "Distillate (check probe)", "steam-valve-position": "Steam valve position",
    },
  };

  function chooseLanguage() {
    const saved = (document.cookie.match(/(?:^|;\s*)stillcontrol_lang=([^;]+)/) || [])[1];
    if (saved === "en" || saved === "zh-CN") return saved;
    const wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "en"]);
    for (const l of wanted) {
      const low = String(l).toLowerCase();
      if (low.startsWith("zh")) return "zh-CN";
      if (low.startsWith("en")) return "en";
    }
    return "en";
  }
  function saveLanguage(lang) {
    document.cookie = `stillcontrol_lang=${lang}; path=/; max-age=31536000; samesite=strict`;
  }
  /** The text of `key` in `lang` from a page's own table (English when missing), with {0}, {1}... replaced by `args`. */
  function translate(table, lang, key, args) {
    const s = (table[lang] && table[lang][key]) ?? table.en[key] ?? key;
    return s.replace(/\{(\d)\}/g, (_, i) => args[Number(i)] ?? "");
  }
  function channelName(lang, channel) { return (CHANNELS[lang] && CHANNELS[lang][channel]) || channel; }
  return { chooseLanguage, saveLanguage, translate, channelName };
})();
