// Shareable state in the URL hash next to MapLibre's own `map=zoom/lat/lon` entry:
// #map=12/39.66/106.80&mode=heat&layers=grids,incidents&to=2025-12-31&span=30&category=...
const KEYS = ["mode", "layers", "to", "span", "category", "channel", "by", "metric", "basemap"];

function params() {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}

export function readState() {
  const p = params();
  const state = {};
  for (const key of KEYS) if (p.has(key)) state[key] = p.get(key);
  return state;
}

export function writeState(state) {
  const p = params();
  for (const key of KEYS) {
    const value = state[key];
    if (value === undefined || value === null || value === "") p.delete(key);
    else p.set(key, String(value));
  }
  // keep MapLibre's map= first and readable (its slashes unescaped)
  const text = p.toString().replace(/%2F/g, "/").replace(/%2C/g, ",");
  window.history.replaceState(window.history.state, "", "#" + text);
}
