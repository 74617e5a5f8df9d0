// One label per district, street, community and grid. Polygon labels placed by the tiles repeat
// in every tile a unit crosses; this module takes the rendered pieces, keeps each unit's largest,
// and labels its centre from a GeoJSON source. Collisions: larger units first, no overlap.
const LEVELS = [
  ["districts", "name", 0, 8, 16],
  ["streets", "name", 1, 10, 14],
  ["communities", "name", 2, 12, 13],
  ["grids", "name", 3, 14, 11],
];

function ringArea(ring) {
  let a = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    a += (ring[j][0] + ring[i][0]) * (ring[j][1] - ring[i][1]);
  }
  return Math.abs(a / 2);
}

function centreOf(ring) {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of ring) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
  return [(x0 + x1) / 2, (y0 + y1) / 2];
}

export function addLabelLayer(map, font, shown) {
  map.addSource("labels", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
  map.addLayer({
    id: "unit-labels", type: "symbol", source: "labels",
    filter: [">=", ["zoom"], ["get", "minzoom"]],
    layout: {
      "text-field": ["get", "label"], "text-font": [font],
      "text-size": ["get", "size"], "symbol-sort-key": ["get", "rank"],
      "text-padding": 6, "text-allow-overlap": false, "text-max-width": 8,
    },
    paint: { "text-color": "#2b2b2b", "text-halo-color": "#ffffff", "text-halo-width": 1.5 },
  });
  let pending = false;
  const update = () => {
    pending = false;
    const features = [];
    for (const [layer, prop, rank, minzoom, size] of LEVELS) {
      if (!shown(layer)) continue;
      const best = new Map();
      for (const f of map.querySourceFeatures("onemap", { sourceLayer: layer })) {
        const polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] :
          f.geometry.type === "MultiPolygon" ? f.geometry.coordinates : [];
        for (const poly of polys) {
          const area = ringArea(poly[0]);
          const key = f.properties.code;
          const label = f.properties[prop] || f.properties.code;
          if (!best.has(key) || best.get(key).area < area) best.set(key, { area, ring: poly[0], label });
        }
      }
      for (const { ring, label } of best.values()) {
        features.push({ type: "Feature", geometry: { type: "Point", coordinates: centreOf(ring) },
                        properties: { label, rank, minzoom, size, level: layer } });
      }
    }
    map.getSource("labels").setData({ type: "FeatureCollection", features });
  };
  map.on("sourcedata", (e) => {
    if (e.sourceId === "onemap" && e.isSourceLoaded && !pending) { pending = true; setTimeout(update, 200); }
  });
  const schedule = () => { if (!pending) { pending = true; setTimeout(update, 200); } };
  map.on("moveend", schedule);
  return schedule;
}
