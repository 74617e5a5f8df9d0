// The search box: `/geocode` against the city's standard addresses, then fly there.
import { getJSON } from "./api.js";

export function wireSearch(map, form, input, out) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    out.textContent = "…";
    try {
      const hit = await getJSON("/geocode", { q });
      if (hit.lon === null || hit.lon === undefined) {
        out.textContent = `未找到 not found: ${hit.normalized || q}`;
        return;
      }
      out.textContent = `${hit.level} · ${Number(hit.score).toFixed(2)} · ${hit.lon.toFixed(5)}, ${hit.lat.toFixed(5)}`;
      map.flyTo({ center: [hit.lon, hit.lat], zoom: hit.level === "building" ? 17 : 15, speed: 2 });
      window.onemapLastSearch = hit;
    } catch (err) {
      out.textContent = `查询失败 ${err.message}`;
    }
  });
}
