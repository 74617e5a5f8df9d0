"""TileJSON 3.0.0 per layer set and the MapLibre style `/styles/onemap.json`.

Both point at this server's own URLs (taken from the request, so a proxy's host is kept). Cluster
points (below a layer's detail zoom) carry `count`: the style sizes and labels them by it.
"""

from __future__ import annotations

from typing import Any

from geoplatform.tiles.catalog import Catalog, Layer
from geoplatform.tiles.glyphs import DEFAULT_FONTSTACK

CITY_CENTER = (106.80, 39.66)  # default view; the style's `center` only, data decide the rest


def _fields(layer: Layer) -> dict[str, str]:
    types = {"integer": "Number", "number": "Number", "boolean": "Boolean", "string": "String"}
    # a JSON object column (declared delivery attributes) reaches tiles as its keys, which the
    # catalog does not know in advance: it is left out of the field list
    fields = {name: types[col.json_type] for name, col in layer.columns.items() if col.is_scalar}
    if layer.config.overview == "clusters":
        fields["count"] = "Number (clusters below detail zoom)"
        fields["h3"] = "String (cluster H3 cell)"
    return fields


ATTRIBUTION = "城市一张图 one map · data: the city's departments, served by geoplatform"
WORLD = [-180.0, -85.0511, 180.0, 85.0511]


def tilejson(
    catalog: Catalog,
    layers: list[Layer],
    base_url: str,
    query: str = "",
    *,
    bounds: list[float] | None = None,
) -> dict[str, Any]:
    """TileJSON 3.0.0 for a comma list of layers served as one composite tile.

    `bounds` is the data's extent (lon/lat); the center is its middle at a city zoom. Beyond
    `fillzoom` (the last zoom served) clients overzoom the tiles they have.
    """
    names = ",".join(layer.name for layer in layers)
    suffix = f"?{query}" if query else ""
    minzoom = min(layer.config.minzoom for layer in layers)
    maxzoom = max(layer.config.maxzoom for layer in layers)
    box = bounds or WORLD
    center = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2] if bounds else list(CITY_CENTER)
    return {
        "tilejson": "3.0.0",
        "name": names,
        "description": "; ".join(layer.config.title for layer in layers),
        "version": "1.0.0",
        "attribution": ATTRIBUTION,
        "scheme": "xyz",
        "tiles": [f"{base_url}/tiles/{names}/{{z}}/{{x}}/{{y}}.mvt{suffix}"],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "fillzoom": maxzoom,
        "bounds": [round(v, 6) for v in box],
        "center": [round(center[0], 6), round(center[1], 6), min(max(minzoom, 11), maxzoom)],
        "vector_layers": [
            {
                "id": layer.name,
                "description": layer.config.description or layer.config.title,
                "minzoom": layer.config.minzoom,
                "maxzoom": layer.config.maxzoom,
                "fields": _fields(layer),
            }
            for layer in layers
        ],
    }


def _cluster_layers(layer: Layer, source: str) -> list[dict[str, Any]]:
    color = layer.config.style.color
    is_cluster = ["has", "count"]
    return [
        {
            "id": f"{layer.name}-clusters",
            "type": "circle",
            "source": source,
            "source-layer": layer.name,
            "filter": is_cluster,
            "paint": {
                "circle-color": color,
                "circle-opacity": 0.55,
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 1,
                "circle-radius": [
                    "interpolate",
                    ["linear"],
                    ["sqrt", ["get", "count"]],
                    1,
                    4,
                    30,
                    14,
                    300,
                    30,
                ],
            },
        },
        {
            "id": f"{layer.name}-cluster-counts",
            "type": "symbol",
            "source": source,
            "source-layer": layer.name,
            "filter": ["all", is_cluster, [">", ["get", "count"], 1]],
            "layout": {
                "text-field": ["to-string", ["get", "count"]],
                "text-size": 10,
                "text-font": [DEFAULT_FONTSTACK],
                "text-allow-overlap": False,
            },
            "paint": {"text-color": "#222222", "text-halo-color": "#ffffff", "text-halo-width": 1},
        },
    ]


def _feature_layers(layer: Layer, source: str, labels: bool) -> list[dict[str, Any]]:
    style = layer.config.style
    not_cluster = ["!", ["has", "count"]]
    base = {"source": source, "source-layer": layer.name}
    out: list[dict[str, Any]] = []
    if style.kind == "boundary":
        out.append(
            {
                "id": f"{layer.name}-line",
                "type": "line",
                **base,
                "paint": {"line-color": style.color, "line-width": style.width},
            }
        )
    elif style.kind == "fill":
        out.append(
            {
                "id": f"{layer.name}-fill",
                "type": "fill",
                **base,
                "filter": not_cluster,
                "paint": {"fill-color": style.color, "fill-opacity": style.opacity},
            }
        )
        out.append(
            {
                "id": f"{layer.name}-outline",
                "type": "line",
                **base,
                "filter": not_cluster,
                "paint": {"line-color": style.color, "line-width": 0.5},
            }
        )
    else:
        out.append(
            {
                "id": f"{layer.name}-points",
                "type": "circle",
                **base,
                "filter": not_cluster,
                "paint": {
                    "circle-color": style.color,
                    "circle-radius": 3.5,
                    "circle-stroke-color": "#ffffff",
                    "circle-stroke-width": 0.5,
                },
            }
        )
    if labels and layer.config.label:
        out.append(
            {
                "id": f"{layer.name}-labels",
                "type": "symbol",
                **base,
                "minzoom": max(layer.config.detail_zoom, 12 if style.kind != "boundary" else 0),
                "filter": not_cluster,
                "layout": {
                    "text-field": ["get", layer.config.label],
                    "text-size": 11,
                    "text-font": [DEFAULT_FONTSTACK],
                    "symbol-placement": "point",
                    # collisions: larger units win, labels keep a margin and never overlap
                    "symbol-sort-key": LABEL_RANK.get(layer.name, 9),
                    "text-padding": 4,
                    "text-allow-overlap": False,
                },
                "paint": {
                    "text-color": "#333333",
                    "text-halo-color": "#ffffff",
                    "text-halo-width": 1.2,
                },
            }
        )
    return out


#: label priority under collisions (lower first): districts over streets over communities ...
LABEL_RANK = {"districts": 0, "streets": 1, "communities": 2, "grids": 3, "landmarks": 4}

GRID_STATS_SOURCE = "grid_stats"


def grid_stats_layers(source: str) -> list[dict[str, Any]]:
    """The grid_stats choropleth (incidents per 10k residents; grey where no residents) from
    `/stats/incidents/{z}/{x}/{y}.mvt?by=grid`, hidden by default: a screen switches it on
    (and may add `datetime=`/`category=` to the source URL)."""
    rate = ["coalesce", ["get", "per_10k"], -1]
    return [
        {
            "id": "grid_stats-fill",
            "type": "fill",
            "source": source,
            "source-layer": "grid_stats",
            "layout": {"visibility": "none"},
            "paint": {
                "fill-color": [
                    "step", rate, "#d9d9d9",
                    0, "#fff5eb", 500, "#fdd0a2", 1000, "#fdae6b", 2000, "#fd8d3c",
                    4000, "#e6550d", 8000, "#a63603",
                ],
                "fill-opacity": 0.6,
            },
        },
        {
            "id": "grid_stats-overdue",
            "type": "line",
            "source": source,
            "source-layer": "grid_stats",
            "layout": {"visibility": "none"},
            "filter": [">", ["get", "overdue_now"], 0],
            "paint": {"line-color": "#67000d", "line-width": 1.5},
        },
    ]  # fmt: skip


def onemap_style(catalog: Catalog, base_url: str, *, glyphs: bool) -> dict[str, Any]:
    """A MapLibre style with every public layer from one composite source.

    Text (labels, cluster counts) needs glyph PBFs; without them the style has no symbol layers
    rather than layers that fail in the browser.
    """
    layers = catalog.public()
    source = "onemap"
    style_layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f4f1ea"}}
    ]
    order = sorted(
        layers, key=lambda lyr: {"fill": 0, "boundary": 1, "circle": 2}[lyr.config.style.kind]
    )
    for layer in order:
        style_layers.extend(_feature_layers(layer, source, glyphs))
        if layer.config.overview == "clusters":
            cluster_layers = _cluster_layers(layer, source)
            style_layers.extend(cluster_layers if glyphs else cluster_layers[:1])
    # the choropleth goes under the one-map layers (after the background), hidden until chosen
    style_layers[1:1] = grid_stats_layers(GRID_STATS_SOURCE)
    style: dict[str, Any] = {
        "version": 8,
        "name": "geoplatform one map",
        "center": list(CITY_CENTER),
        "zoom": 11,
        "sources": {
            source: {
                "type": "vector",
                "url": f"{base_url}/tiles/{','.join(lyr.name for lyr in layers)}/tilejson.json",
            },
            GRID_STATS_SOURCE: {
                "type": "vector",
                "tiles": [f"{base_url}/stats/incidents/{{z}}/{{x}}/{{y}}.mvt?by=grid"],
                "minzoom": 8,
                "maxzoom": 16,
            },
        },
        "layers": style_layers,
        "metadata": {"geoplatform:layers": {lyr.name: lyr.config.title for lyr in layers}},
    }
    if glyphs:
        style["glyphs"] = f"{base_url}/fonts/{{fontstack}}/{{range}}.pbf"
    return style
