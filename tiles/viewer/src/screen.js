// The big screen: headline figures for the window (events, open, overdue, closure rate), the
// districts, a category breakdown and the warnings list. Figures come from `/stats/incidents`
// (by district) and `/figures/incidents` (categories).
import { getJSON } from "./api.js";
import { evidence } from "./warnings.js";

function figure(value, label) {
  const div = document.createElement("div");
  div.className = "figure";
  div.innerHTML = `<b></b><span></span>`;
  div.querySelector("b").textContent = value;
  div.querySelector("span").textContent = label;
  return div;
}

const pct = (v) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : "—");

export function headline(units) {
  const sum = (k) => units.reduce((a, u) => a + (u[k] || 0), 0);
  const events = sum("incidents");
  const accepted = events - sum("rejected");
  return { events, open: accepted - sum("closed"), overdue: sum("overdue_now"),
           closure: accepted > 0 ? sum("closed") / accepted : NaN };
}

export function renderScreen(stats, figures, warnings, windowText) {
  const h = headline(stats.units);
  document.getElementById("screen-window").textContent = windowText;
  document.getElementById("headline").replaceChildren(
    figure(h.events.toLocaleString("zh-CN"), "事件 events"),
    figure(h.open.toLocaleString("zh-CN"), "未办结 open"),
    figure(h.overdue.toLocaleString("zh-CN"), "超期 overdue"),
    figure(pct(h.closure), "办结率 closure rate"),
  );
  const table = document.getElementById("by-district");
  table.replaceChildren();
  const head = table.insertRow();
  for (const t of ["区", "事件", "超期", "办结率", "每万人"]) head.insertCell().textContent = t;
  for (const u of [...stats.units].sort((a, b) => b.incidents - a.incidents)) {
    const r = table.insertRow();
    r.insertCell().textContent = u.name || u.code;
    r.insertCell().textContent = u.incidents;
    r.insertCell().textContent = u.overdue_now;
    r.insertCell().textContent = pct(u.closure_rate);
    r.insertCell().textContent = u.per_10k === null ? "—" : Math.round(u.per_10k);
  }
  const cats = document.getElementById("categories");
  const top = figures.categories.slice(0, 10);
  const max = Math.max(1, ...top.map((c) => c.count));
  cats.replaceChildren(...top.map((c) => {
    const div = document.createElement("div");
    div.innerHTML = `<span class="bar"></span> <span class="name"></span> <span class="hint"></span>`;
    div.querySelector(".bar").style.width = `${Math.round(160 * c.count / max)}px`;
    div.querySelector(".name").textContent = c.name;
    div.querySelector(".hint").textContent = c.count;
    return div;
  }));
  const list = document.getElementById("screen-warnings");
  list.replaceChildren(...warnings.slice(0, 12).map((f) => {
    const li = document.createElement("li");
    li.textContent = evidence(f.properties);
    return li;
  }));
  if (!warnings.length) list.textContent = "无预警 none in the latest scan";
}

export async function readScreen(query) {
  const [stats, figures] = await Promise.all([
    getJSON("/stats/incidents", { ...query, by: "district" }),
    getJSON("/figures/incidents", query),
  ]);
  return { stats, figures };
}
