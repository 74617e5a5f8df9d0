// Warnings mode: cells and grids of the latest scan whose week is above their own baseline,
// drawn from `/analytics/warnings` with their evidence (observed vs expected, ratio, q).
import { getJSON } from "./api.js";

export function addWarnings(map) {
  map.addSource("warnings", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({ id: "warnings-area", type: "fill", source: "warnings", layout: { visibility: "none" },
                 paint: { "fill-color": ["match", ["get", "level"], "grid", "#fb6a4a", "#e31a1c"],
                          "fill-opacity": 0.45 } });
  map.addLayer({ id: "warnings-edge", type: "line", source: "warnings", layout: { visibility: "none" },
                 paint: { "line-color": "#67000d", "line-width": 2 } });
}

export function evidence(p) {
  const ratio = p.ratio === null || p.ratio === undefined ? "" : ` ×${Number(p.ratio).toFixed(1)}`;
  const q = p.q_value === null || p.q_value === undefined ? "" : ` q=${Number(p.q_value).toPrecision(2)}`;
  return `${p.level === "grid" ? "网格" : "H3"} ${p.unit}: ${p.observed} 起 / 期望 ` +
    `${Number(p.expected).toFixed(1)}${ratio}${q}`;
}

export async function loadWarnings(map) {
  const body = await getJSON("/analytics/warnings", { limit: 500 });
  const features = (body.features || []).filter((f) => f.geometry);
  map.getSource("warnings").setData({ type: "FeatureCollection", features });
  return body.features || [];
}

export function listWarnings(list, features, onPick) {
  list.replaceChildren(...features.slice(0, 30).map((f) => {
    const li = document.createElement("li");
    li.textContent = evidence(f.properties);
    li.addEventListener("click", () => onPick(f));
    return li;
  }));
  if (!features.length) {
    const li = document.createElement("li");
    li.textContent = "无预警 no warnings in the latest scan";
    list.append(li);
  }
}
