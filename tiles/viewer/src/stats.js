// Statistics mode: a choropleth of grid / community / street figures (`/stats/incidents/..mvt`,
// the style's grid_stats source) with a legend, and the ranked list (`/stats/incidents`).
import { getJSON, url } from "./api.js";

export const METRICS = {
  incidents: { title: "事件数", stops: [0, 10, 50, 100, 250, 500, 1000], fmt: (v) => v },
  per_10k: { title: "每万人", stops: [0, 500, 1000, 2000, 4000, 8000, 16000], fmt: (v) => Math.round(v) },
  closure_rate: { title: "办结率", stops: [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99], fmt: pct },
  on_time_rate: { title: "按时率", stops: [0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99], fmt: pct },
};
const COLORS = ["#fff5eb", "#fee6ce", "#fdd0a2", "#fdae6b", "#fd8d3c", "#e6550d", "#a63603"];

function pct(v) { return v === null || v === undefined ? "—" : `${(100 * v).toFixed(1)}%`; }

export function statsTiles(query, by) {
  return decodeURI(url("/stats/incidents/{z}/{x}/{y}.mvt", { ...query, by }));
}

function quantileStops(units, metric) {
  // counts and per-10k rates: breaks at quantiles of the units shown, so any window has contrast
  const values = units.map((u) => u[metric]).filter(Number.isFinite).sort((a, b) => a - b);
  if (values.length < 7) return null;
  const stops = [0];
  for (const q of [0.2, 0.4, 0.6, 0.8, 0.9, 0.97]) {
    const v = Math.round(values[Math.floor(q * (values.length - 1))]);
    stops.push(Math.max(v, stops[stops.length - 1] + 1));
  }
  return stops;
}

export function applyStats(map, query, by, metric, units = []) {
  const base = METRICS[metric] || METRICS.incidents;
  const rate = metric === "closure_rate" || metric === "on_time_rate";
  const m = { ...base, stops: (!rate && quantileStops(units, metric)) || base.stops };
  map.getSource("grid_stats").setTiles([statsTiles(query, by)]);
  const steps = ["step", ["coalesce", ["get", metric], -1], "#d9d9d9"];
  m.stops.forEach((s, i) => steps.push(s, COLORS[i]));
  map.setPaintProperty("grid_stats-fill", "fill-color", steps);
  map.setPaintProperty("grid_stats-fill", "fill-opacity", 0.75);
  const legend = document.getElementById("stats-legend");
  legend.replaceChildren(...m.stops.map((s, i) => {
    const span = document.createElement("span");
    span.innerHTML = `<span class="swatch" style="background:${COLORS[i]}"></span>≥${m.fmt(s)}`;
    return span;
  }));
}

export async function ranking(map, query, by, metric) {
  const m = METRICS[metric] || METRICS.incidents;
  const body = await getJSON("/stats/incidents", { ...query, by });
  const units = body.units.filter((u) => u[metric] !== null && u[metric] !== undefined && !u.suppressed);
  units.sort((a, b) => b[metric] - a[metric]);
  const list = document.getElementById("ranking");
  list.replaceChildren(...units.slice(0, 15).map((u) => {
    const li = document.createElement("li");
    li.textContent = `${u.name || u.code}  ${m.title} ${m.fmt(u[metric])}`;
    li.dataset.code = u.code;
    return li;
  }));
  return units;
}
