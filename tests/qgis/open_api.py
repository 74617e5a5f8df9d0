"""Run by tests/test_qgis.py with Debian's /usr/bin/python3 (python3-qgis 3.22), headless.

Opens every collection through QGIS's OAPIF provider and the one-map XYZ vector tiles with our
MapLibre style (converted by QGIS's own converter), renders the tiles once, and prints JSON.
Usage: python3 open_api.py BASE_URL COLLECTION[,COLLECTION...] OUT.png
"""

import json
import os
import sys
import urllib.request

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapBoxGlStyleConversionContext,
    QgsMapBoxGlStyleConverter,
    QgsMapRendererParallelJob,
    QgsMapSettings,
    QgsRectangle,
    QgsVectorLayer,
    QgsVectorTileLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

base, names, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
app = QgsApplication([], False)
app.initQgis()
result = {"qgis": __import__("qgis.core").core.Qgis.QGIS_VERSION, "collections": {}}
for name in names:
    uri = f"url='{base}/' typename='{name}' restrictToRequestBBOX='0' pagingEnabled='true'"
    layer = QgsVectorLayer(uri, name, "OAPIF")
    ids = (
        sorted(
            str(f["id"] if "id" in f.fields().names() else f["code"]) for f in layer.getFeatures()
        )
        if layer.isValid()
        else []
    )
    result["collections"][name] = {
        "valid": layer.isValid(),
        "error": layer.error().summary() if not layer.isValid() else "",
        "crs": layer.crs().authid(),
        "count": len(ids),
        "ids": ids,
    }

style = json.load(urllib.request.urlopen(f"{base}/styles/onemap.json"))
tilejson = json.load(urllib.request.urlopen(style["sources"]["onemap"]["url"]))
template = tilejson["tiles"][0]
tiles = QgsVectorTileLayer(
    f"type=xyz&url={template}&zmin={tilejson['minzoom']}&zmax={tilejson['maxzoom']}", "onemap"
)
converter = QgsMapBoxGlStyleConverter()
context = QgsMapBoxGlStyleConversionContext()
converter.convert(style, context)
tiles.setRenderer(converter.renderer())
if converter.labeling():
    tiles.setLabeling(converter.labeling())
styles = tiles.renderer().styles()
settings = QgsMapSettings()
settings.setLayers([tiles])
settings.setDestinationCrs(QgsCoordinateReferenceSystem("EPSG:3857"))
settings.setExtent(QgsRectangle(11887200, 4814900, 11890600, 4818300))  # 106.80, 39.66, z~14
settings.setOutputSize(QSize(512, 512))
settings.setBackgroundColor(QColor(255, 255, 255))
job = QgsMapRendererParallelJob(settings)
job.start()
job.waitForFinished()
image = job.renderedImage()
image.save(out)
style_color = next(
    lyr["paint"]["circle-color"] for lyr in style["layers"] if lyr["id"] == "incidents-clusters"
)


def reddish(rgb: int) -> bool:
    """The incidents' red (#d7301f, drawn at 55% opacity over the grid fill)."""
    c = QColor(rgb)
    return c.red() > c.green() + 60 and c.red() > c.blue() + 60


painted = sum(1 for x in range(512) for y in range(512) if reddish(image.pixel(x, y)))
result["tiles"] = {
    "valid": tiles.isValid(),
    "crs": tiles.crs().authid(),
    "style_layers": sorted({s.layerName() for s in styles}),
    "warnings": [str(w) for w in context.warnings()][:20],
    "incident_pixels": painted,
    "incident_color": style_color,
}
print(json.dumps(result, ensure_ascii=False), flush=True)
# QGIS 3.22 can crash in exitQgis() while providers still hold network replies: leave at once
os._exit(0)
