// The one-map viewer and big screen: wires the modules together. Modes: map (layer panel),
// heat, stats, warnings, screen. State lives in the URL (urlstate.js); days are city days.
import { base, getJSON, transformRequest } from "./api.js";
import { addBasemap, basemapConfig, wantsGcj02 } from "./basemap.js";
import { addDays, datetimeParam, daysBetween } from "./days.js";
import { addHeat, setHeatQuery } from "./heat.js";
import { addLabelLayer } from "./labels.js";
import { LayerPanel } from "./layers.js";
import { wirePopup } from "./popup.js";
import { startRefresh } from "./refresh.js";
import { readScreen, renderScreen } from "./screen.js";
import { wireSearch } from "./search.js";
import { applyStats, ranking } from "./stats.js";
import { addWarnings, listWarnings, loadWarnings } from "./warnings.js";
import { readState, writeState } from "./urlstate.js";

const BOUNDARIES = new Set(["districts", "streets", "communities", "grids"]);
const MODE_LAYERS = {
  map: () => true,
  heat: (name) => BOUNDARIES.has(name) && name !== "grids",
  stats: (name) => BOUNDARIES.has(name) && name !== "grids",
  warnings: (name) => BOUNDARIES.has(name),
  screen: (name) => BOUNDARIES.has(name) && name !== "grids",
};
const REFRESH_SECONDS = Number(new URLSearchParams(window.location.search).get("refresh") || 60);
const $ = (id) => document.getElementById(id);

function tileUrl(template, extra) {
  const [path, query] = template.split("?");
  const params = new URLSearchParams(query || "");
  for (const [k, v] of Object.entries(extra)) if (v) params.set(k, v);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function boot() {
  const state = { mode: "map", span: "30", by: "grid", metric: "incidents", ...readState() };
  const basemap = basemapConfig(state.basemap);
  const style = await getJSON("/styles/onemap.json");
  const font = (style.layers.find((l) => l.layout?.["text-font"]) || {}).layout?.["text-font"]?.[0]
    || "Noto Sans CJK SC Regular";
  // polygon labels repeat per tile: labels.js draws one per unit instead
  const polygonLayers = new Set(style.layers.filter((l) => l.type === "line" || l.type === "fill")
    .map((l) => l["source-layer"]));
  style.layers = style.layers.filter((l) => !(l.type === "symbol" && l.id.endsWith("-labels")
    && polygonLayers.has(l["source-layer"]) && l["source-layer"] !== "buildings"));
  const tilejson = await getJSON(new URL(style.sources.onemap.url).pathname);
  const template = tilejson.tiles[0];
  style.sources.onemap = { type: "vector", tiles: [template], minzoom: tilejson.minzoom,
                           maxzoom: tilejson.maxzoom };
  const figures = await getJSON("/figures/incidents");
  const first = figures.first_day, last = figures.last_day;

  const map = new maplibregl.Map({
    container: "map", style, center: style.center, zoom: style.zoom, hash: "map",
    localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans CJK', sans-serif",
    transformRequest, attributionControl: { compact: true },
  });
  window.onemap = map;  // for tests and the console
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl(), "bottom-left");
  await new Promise((resolve) => map.on("load", resolve));

  addBasemap(map, basemap);
  const firstOnemap = style.layers.find((l) => l.source === "onemap")?.id;
  addHeat(map, {}, firstOnemap);
  addWarnings(map);
  const panel = new LayerPanel(map, style, () => apply());
  if (state.layers !== undefined) panel.enabled = new Set(state.layers.split(",").filter(Boolean));
  panel.render($("layers"));
  const relabel = addLabelLayer(map, font, (name) => panel.enabled.has(name) && MODE_LAYERS[state.mode](name));
  wirePopup(map);
  wireSearch(map, $("search"), $("q"), $("search-result"));

  for (const [select, list] of [[$("category"), figures.categories], [$("channel"), figures.channels]]) {
    for (const { name } of list) select.add(new Option(name, name));
  }
  const slider = $("slider");
  slider.max = String(Math.max(0, daysBetween(first, last)));
  slider.value = String(state.to ? Math.min(Number(slider.max), Math.max(0, daysBetween(first, state.to))) : slider.max);
  $("span").value = state.span;
  $("category").value = state.category || "";
  $("channel").value = state.channel || "";
  $("stat-by").value = state.by;
  $("stat-metric").value = state.metric;

  let warnings = [];
  const query = () => {
    const span = Number($("span").value);
    const to = addDays(first, Number(slider.value));
    const from = span > 0 ? addDays(to, 1 - span) : "";
    return { from, to, span, q: { datetime: span > 0 || to !== last ? datetimeParam(from, to) : "",
                                  category: $("category").value, channel: $("channel").value } };
  };

  async function apply() {
    const { from, to, span, q } = query();
    Object.assign(state, { to: to === last ? "" : to, span: String(span), category: q.category,
                           channel: q.channel, by: $("stat-by").value, metric: $("stat-metric").value,
                           layers: [...panel.enabled].join(",") });
    writeState(state);
    document.body.className = `mode-${state.mode}`;
    for (const b of document.querySelectorAll("#modes button")) b.classList.toggle("on", b.dataset.mode === state.mode);
    const text = span > 0 ? `${from} — ${to}` : `— ${to}`;
    $("window").textContent = text;
    map.getSource("onemap").setTiles([tileUrl(template, { datetime: q.datetime,
                                      crs: wantsGcj02(basemap) ? "gcj02" : "" })]);
    panel.apply(MODE_LAYERS[state.mode]);
    relabel();
    const show = (id, on) => map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
    show("heat-cells", state.mode === "heat" || state.mode === "screen");
    show("grid_stats-fill", state.mode === "stats");
    show("grid_stats-overdue", state.mode === "stats");
    show("warnings-area", state.mode === "warnings" || state.mode === "screen");
    show("warnings-edge", state.mode === "warnings" || state.mode === "screen");
    setHeatQuery(map, q);
    if (state.mode === "stats") {
      const units = await ranking(map, q, state.by, state.metric);
      applyStats(map, q, state.by, state.metric, units);
    }
    if (state.mode === "warnings" || state.mode === "screen") {
      warnings = await loadWarnings(map);
      const day = warnings[0]?.properties?.as_of;
      $("warn-day").textContent = day ? `扫描日 ${day}` : "";
      listWarnings($("warnings-list"), warnings, (f) => {
        const b = new maplibregl.LngLatBounds();
        const walk = (c) => (typeof c[0] === "number" ? b.extend(c) : c.forEach(walk));
        if (f.geometry) walk(f.geometry.coordinates);
        if (!b.isEmpty()) map.fitBounds(b, { maxZoom: 15, padding: 40 });
      });
    }
    if (state.mode === "screen") {
      const { stats, figures: f } = await readScreen(q);
      renderScreen(stats, f, warnings, text);
    }
    map.resize();
    window.onemapApplied = (window.onemapApplied || 0) + 1;
  }

  for (const b of document.querySelectorAll("#modes button, #screen-exit")) {
    b.addEventListener("click", () => { state.mode = b.dataset.mode; apply(); });
  }
  for (const id of ["span", "category", "channel", "stat-by", "stat-metric"]) $(id).addEventListener("change", () => apply());
  slider.addEventListener("input", () => { $("window").textContent = addDays(first, Number(slider.value)); });
  slider.addEventListener("change", () => apply());
  startRefresh(REFRESH_SECONDS, async () => {
    // new data: tiles re-requested (their ETags revalidate), figures re-read
    await apply();
    for (const id of ["onemap", "heat", "grid_stats"]) {
      const source = map.getSource(id);
      source.setTiles([...source.tiles]);  // reloads the visible tiles; unchanged ones answer 304
    }
  }, $("screen-refresh"));
  await apply();
  window.onemapViewer = { state, apply, base };
}

boot().catch((err) => {
  console.error("viewer failed to start:", err);
});
