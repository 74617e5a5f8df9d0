// Heat mode: H3 hexagons of incident counts from the cube (`/heatmap/incidents/..mvt`), for the
// window and filters; the resolution follows the zoom (the server says which).
import { url } from "./api.js";

const RAMP = [0, "#ffffb2", 1, "#fed976", 2, "#feb24c", 3, "#fd8d3c", 4, "#f03b20", 5, "#bd0026"];

export function heatTiles(query) {
  return decodeURI(url("/heatmap/incidents/{z}/{x}/{y}.mvt", query));
}

export function addHeat(map, query, before) {
  map.addSource("heat", { type: "vector", tiles: [heatTiles(query)], minzoom: 5, maxzoom: 16 });
  map.addLayer({
    id: "heat-cells", type: "fill", source: "heat", "source-layer": "incidents",
    layout: { visibility: "none" },
    paint: {
      "fill-color": ["interpolate", ["linear"], ["ln", ["+", 1, ["get", "count"]]], ...RAMP],
      "fill-opacity": 0.7, "fill-outline-color": "#ffffff55",
    },
  }, before);
  const legend = document.getElementById("heat-legend");
  legend.replaceChildren();
  for (let i = 0; i < RAMP.length; i += 2) {
    const span = document.createElement("span");
    span.innerHTML = `<span class="swatch" style="background:${RAMP[i + 1]}"></span>` +
      `≥${Math.round(Math.exp(RAMP[i]) - 1)}`;
    legend.append(span);
  }
}

export function setHeatQuery(map, query) {
  map.getSource("heat").setTiles([heatTiles(query)]);
}
