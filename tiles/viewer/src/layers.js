// The layer panel: catalog layers by group, each with its legend; toggles switch every style
// layer of a catalog layer. Cluster layers get a size legend (H3 clusters below detail zoom).
const GROUPS = [
  ["行政区划 Boundaries", ["districts", "streets", "communities", "grids"]],
  ["基础数据 Base data", ["buildings", "landmarks", "organisations", "devices"]],
  ["事件 Events", ["incidents"]],
  ["分析 Analysis", ["warnings"]],
];

function swatch(layer) {
  const paint = layer?.paint || {};
  const color = paint["circle-color"] || paint["fill-color"] || paint["line-color"] || "#999";
  const span = document.createElement("span");
  span.className = "swatch";
  span.style.background = typeof color === "string" ? color : "#999";
  if (layer?.type === "line") span.style.height = "3px";
  if (layer?.type === "circle") span.style.borderRadius = "50%";
  return span;
}

function clusterLegend() {
  const div = document.createElement("div");
  div.className = "legend";
  for (const [n, r] of [[1, 4], [30, 14], [300, 30]]) {
    const item = document.createElement("span");
    item.innerHTML = `<span class="bubble" style="width:${r}px;height:${r}px"></span> ${n}`;
    div.append(item);
  }
  div.title = "H3 clusters below detail zoom: size by count";
  return div;
}

export class LayerPanel {
  constructor(map, style, onChange) {
    this.map = map;
    this.onChange = onChange;
    this.titles = style.metadata["geoplatform:layers"];
    this.ids = {};
    for (const l of style.layers) {
      if (l.source !== "onemap") continue;
      (this.ids[l["source-layer"]] ||= []).push(l.id);
    }
    this.style = style;
    this.enabled = new Set(Object.keys(this.titles).filter((n) => n !== "warnings"));
  }

  render(box) {
    box.replaceChildren();
    const known = new Set(GROUPS.flatMap(([, names]) => names));
    const extra = Object.keys(this.titles).filter((n) => !known.has(n));
    for (const [title, names] of [...GROUPS, ["其他 Other", extra]]) {
      const present = names.filter((n) => n in this.titles);
      if (!present.length) continue;
      const head = document.createElement("div");
      head.className = "group";
      head.textContent = title;
      box.append(head);
      for (const name of present) {
        const first = this.style.layers.find((l) => l["source-layer"] === name);
        const label = document.createElement("label");
        const input = document.createElement("input");
        input.type = "checkbox";
        input.dataset.layer = name;
        input.checked = this.enabled.has(name);
        input.addEventListener("change", () => {
          if (input.checked) this.enabled.add(name); else this.enabled.delete(name);
          this.onChange();
        });
        label.append(input, swatch(first), this.titles[name]);
        box.append(label);
        if ((this.ids[name] || []).some((id) => id.endsWith("-clusters"))) box.append(clusterLegend());
      }
    }
  }

  setEnabled(names) {
    this.enabled = new Set(names.filter((n) => n in this.titles));
    for (const input of document.querySelectorAll("#layers input[data-layer]")) {
      input.checked = this.enabled.has(input.dataset.layer);
    }
  }

  apply(visible) {
    // visible(name) -> bool, given the mode; a layer shows when enabled and the mode allows it
    for (const [name, ids] of Object.entries(this.ids)) {
      const on = this.enabled.has(name) && visible(name);
      for (const id of ids) this.map.setLayoutProperty(id, "visibility", on ? "visible" : "none");
    }
  }
}
