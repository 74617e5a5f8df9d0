// Basemaps. Default none: our own boundaries on a plain background, so no request leaves the
// machine. An operator sets `window.GEOPLATFORM_BASEMAP` in config.js (or #basemap= in the URL):
//   {type: "raster", tiles: ["http://tiles.local/{z}/{x}/{y}.png"], attribution: "..."}
//   {type: "xyz", tiles: ["https://t0.tianditu.gov.cn/vec_w/wmts?...&tk=KEY"], crs: "wgs84"}
//   {type: "gcj02", tiles: [...]}  (the base is in GCJ-02: the viewer asks for crs=gcj02 tiles)
export function basemapConfig(urlValue) {
  const configured = window.GEOPLATFORM_BASEMAP || null;
  if (urlValue === "none") return null;
  return configured;
}

export function addBasemap(map, config) {
  const box = document.getElementById("basemap");
  if (!config) {
    box.textContent = "无底图 none (own boundaries; see docs/viewer.md to add one)";
    return;
  }
  map.addSource("basemap", { type: "raster", tiles: config.tiles, tileSize: config.tileSize || 256,
                             attribution: config.attribution || "" });
  map.addLayer({ id: "basemap", type: "raster", source: "basemap" }, map.getStyle().layers[1]?.id);
  box.textContent = `${config.type} ${config.crs || ""}`;
}

export function wantsGcj02(config) {
  return Boolean(config && (config.type === "gcj02" || config.crs === "gcj02"));
}
