// The one-map viewer: this server's MapLibre style, layer toggles, a time window, and a click
// that shows the feature's properties and who is responsible for the place (/locate).
(async function () {
  "use strict";
  const base = window.location.origin;
  const style = await (await fetch(base + "/styles/onemap.json")).json();
  const tilejsonUrl = style.sources.onemap.url;
  const tilejson = await (await fetch(tilejsonUrl)).json();
  const tileTemplate = tilejson.tiles[0];
  style.sources.onemap = { type: "vector", tiles: [tileTemplate], minzoom: tilejson.minzoom,
                           maxzoom: tilejson.maxzoom };

  const map = new maplibregl.Map({ container: "map", style: style, center: style.center,
                                   zoom: style.zoom, hash: true });
  window.onemap = map;  // for tests and the console
  map.addControl(new maplibregl.NavigationControl(), "top-left");
  map.addControl(new maplibregl.ScaleControl(), "bottom-left");

  // layer toggles: one per catalog layer, switching all of its style layers
  const titles = style.metadata["geoplatform:layers"];
  const layersBox = document.getElementById("layers");
  for (const [name, title] of Object.entries(titles)) {
    const ids = style.layers.filter((l) => l["source-layer"] === name).map((l) => l.id);
    const paint = style.layers.find((l) => l["source-layer"] === name)?.paint || {};
    const color = paint["circle-color"] || paint["fill-color"] || paint["line-color"] || "#999";
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" checked data-layer="${name}">` +
      `<span class="swatch" style="background:${color}"></span>${title}`;
    label.querySelector("input").addEventListener("change", (event) => {
      const visibility = event.target.checked ? "visible" : "none";
      for (const id of ids) map.setLayoutProperty(id, "visibility", visibility);
    });
    layersBox.appendChild(label);
  }

  // time window: sets datetime= on the tile URL (layers without time are unaffected)
  function setWindow(from, to) {
    const url = new URL(tileTemplate.replace(/{/g, "%7B").replace(/}/g, "%7D"));
    let text = "all time";
    if (from || to) {
      const start = from ? from + "T00:00:00Z" : "..";
      const end = to ? to + "T23:59:59Z" : "..";
      url.searchParams.set("datetime", start + "/" + end);
      text = start + " / " + end;
    }
    const tiles = decodeURIComponent(url.toString());
    map.getSource("onemap").setTiles([tiles]);
    document.getElementById("window").textContent = text;
  }
  document.getElementById("apply").addEventListener("click", () =>
    setWindow(document.getElementById("from").value, document.getElementById("to").value));
  document.getElementById("clear").addEventListener("click", () => {
    document.getElementById("from").value = "";
    document.getElementById("to").value = "";
    setWindow("", "");
  });

  // click: the feature's properties and the admin chain + grid of the point
  const info = document.getElementById("info");
  function row(key, value) {
    const tr = document.createElement("tr");
    const k = document.createElement("td");
    const v = document.createElement("td");
    k.textContent = key;
    v.textContent = value === null || value === undefined ? "" : String(value);
    tr.append(k, v);
    return tr;
  }
  map.on("click", async (event) => {
    const features = map.queryRenderedFeatures(event.point).filter((f) => f.source === "onemap");
    const table = document.createElement("table");
    if (features.length) {
      const f = features[0];
      table.append(row("layer", f.sourceLayer));
      if (f.id !== undefined) table.append(row("id", f.id));
      for (const [k, v] of Object.entries(f.properties)) table.append(row(k, v));
    } else {
      table.append(row("feature", "none here"));
    }
    const { lng, lat } = event.lngLat;
    try {
      const where = await (await fetch(`${base}/locate?lon=${lng}&lat=${lat}`)).json();
      for (const area of where.admin || []) table.append(row(area.level, `${area.name} ${area.code}`));
      if (where.grid) table.append(row("grid", `${where.grid.name} ${where.grid.code}`));
    } catch (err) {
      table.append(row("locate", "unavailable"));
    }
    info.replaceChildren(table);
  });
})();
