"""Small server-rendered HTML pages of the OGC API (`f=html`), for a person browsing the API.

No template engine and no script: a page is the JSON document's links and values as HTML, every
value escaped. Machines keep getting JSON (the default, and `f=json`).
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from geoplatform.tiles.params import InvalidParameter

_STYLE = (
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;"
    "vertical-align:top}th{background:#f3f3f3}code{font-size:12px}nav a{margin-right:1em}"
)


def wants_html(request: Request) -> bool:
    """`f=html`, or a browser's Accept (text/html before any JSON type) without `f`."""
    f = request.query_params.get("f")
    if f is not None:
        if f not in ("json", "html"):
            raise InvalidParameter(f"f: {f!r} is not served: use f=json or f=html")
        return f == "html"
    accept = request.headers.get("accept", "")
    html_at = accept.find("text/html")
    json_at = min((i for i in (accept.find("json"),) if i >= 0), default=len(accept) + 1)
    return html_at >= 0 and html_at < json_at


def _links(links: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<li><a href='{escape(str(link['href']))}'>{escape(str(link.get('title') or link['rel']))}"
        f"</a> <small>({escape(str(link['rel']))}, {escape(str(link.get('type', '')))})</small>"
        "</li>"
        for link in links
        if not link.get("templated")
    )
    return f"<ul>{rows}</ul>" if rows else ""


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return f"<code>{escape(json.dumps(value, ensure_ascii=False)[:400])}</code>"
    return escape("" if value is None else str(value))


def page(title: str, body: str, links: list[dict[str, Any]] | None = None) -> HTMLResponse:
    nav = "<nav><a href='/?f=html'>Landing page</a><a href='/collections?f=html'>Collections</a>"
    nav += "<a href='/docs'>API (Swagger UI)</a><a href='/viewer/'>Map viewer</a></nav>"
    html = (
        f"<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><style>{_STYLE}</style></head><body>{nav}<h1>{escape(title)}</h1>{body}"
        f"{'<h2>Links</h2>' + _links(links) if links else ''}</body></html>"
    )
    return HTMLResponse(html)


def document_page(doc: dict[str, Any], title: str) -> HTMLResponse:
    """Any JSON document of the API: its scalar fields as a table, nested ones as JSON."""
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{_value(v)}</td></tr>"
        for k, v in doc.items()
        if k not in ("links", "collections", "conformsTo", "title")
    )
    body = f"<p>{escape(str(doc.get('description', '')))}</p><table>{rows}</table>" if rows else ""
    if "conformsTo" in doc:
        body += "<ul>" + "".join(f"<li>{escape(c)}</li>" for c in doc["conformsTo"]) + "</ul>"
    if "collections" in doc:
        body += "<table><tr><th>id</th><th>title</th><th>description</th></tr>"
        for c in doc["collections"]:
            cid = escape(c["id"])
            body += (
                f"<tr><td><a href='/collections/{cid}?f=html'>{cid}</a></td>"
                f"<td>{escape(c.get('title', ''))}</td><td>{escape(c.get('description', ''))}</td>"
                "</tr>"
            )
        body += "</table>"
    return page(str(doc.get("title", title)), body, doc.get("links"))


def features_page(collection: str, collection_doc: dict[str, Any]) -> HTMLResponse:
    """A FeatureCollection or a Feature as a table of properties, with its links."""
    features = collection_doc.get("features")
    if features is None:  # one feature
        features = [collection_doc]
        title = f"{collection} {collection_doc.get('id')}"
    else:
        title = f"{collection}: features"
    names: list[str] = list(dict.fromkeys(k for f in features for k in f.get("properties") or {}))
    head = "".join(f"<th>{escape(n)}</th>" for n in ["id", *names, "geometry"])
    rows = []
    for f in features:
        fid = escape(str(f.get("id")))
        props = f.get("properties") or {}
        geometry = f.get("geometry") or {}
        cells = [
            f"<td><a href='/collections/{escape(collection)}/items/{fid}?f=html'>{fid}</a></td>"
        ]
        cells += [f"<td>{_value(props.get(n))}</td>" for n in names]
        cells.append(f"<td>{escape(str(geometry.get('type', '')))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    summary = ""
    if "numberMatched" in collection_doc:
        summary = (
            f"<p>{collection_doc['numberReturned']} of {collection_doc['numberMatched']} "
            "features</p>"
        )
    body = f"{summary}<table><tr>{head}</tr>{''.join(rows)}</table>"
    links = [dict(link, href=_html_href(link["href"])) for link in collection_doc.get("links", [])]
    return page(title, body, links)


def _html_href(href: str) -> str:
    if "f=" in href:
        return href.replace("f=json", "f=html")
    return href + ("&" if "?" in href else "?") + "f=html"
