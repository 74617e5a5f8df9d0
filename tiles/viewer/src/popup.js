// Click: a popup with the clicked feature's properties (each feature once, even when several
// style layers draw it) and who is responsible for the place (`/locate`).
import { getJSON } from "./api.js";

// complainants' addresses stay masked until access control says who may see them (issue 12)
const MASKED = { incidents: ["address"] };

function row(table, key, value) {
  const tr = table.insertRow();
  tr.insertCell().textContent = key;
  tr.insertCell().textContent = value === null || value === undefined ? "" : String(value);
}

export function uniqueFeatures(features) {
  const seen = new Set();
  return features.filter((f) => {
    const key = `${f.source}|${f.sourceLayer}|${f.id ?? JSON.stringify(f.properties)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export function wirePopup(map) {
  const popup = new maplibregl.Popup({ maxWidth: "320px" });
  map.on("click", async (event) => {
    const features = uniqueFeatures(map.queryRenderedFeatures(event.point)
      .filter((f) => f.layer.type !== "symbol" && f.source !== "basemap"));
    const box = document.createElement("div");
    box.className = "feature-popup";
    for (const f of features.slice(0, 5)) {
      const table = document.createElement("table");
      row(table, "图层 layer", f.sourceLayer || f.source);
      if (f.id !== undefined) row(table, "id", f.id);
      for (const [k, v] of Object.entries(f.properties)) {
        const masked = (MASKED[f.sourceLayer] || []).includes(k);
        row(table, k, masked ? "（已隐藏 masked）" : v);
      }
      box.append(table);
    }
    const where = document.createElement("table");
    where.className = "locate";
    box.append(where);
    popup.setLngLat(event.lngLat).setDOMContent(box).addTo(map);
    try {
      const { lng, lat } = event.lngLat;
      const located = await getJSON("/locate", { lon: lng.toFixed(6), lat: lat.toFixed(6) });
      for (const area of located.admin || []) row(where, area.level, `${area.name} ${area.code}`);
      if (located.grid) row(where, "grid", `${located.grid.name || ""} ${located.grid.code}`);
      row(where, "责任 responsible", located.responsible);
    } catch (err) {
      row(where, "locate", "unavailable");
    }
  });
  return popup;
}
