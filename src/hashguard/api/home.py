"""``GET /``: a small page for a person who opens the server's address in a browser."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from hashguard import __version__

router = APIRouter(include_in_schema=False)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>hashguard</title></head>
<body>
<h1>hashguard {version}</h1>
<p>Matches content against lists of known abuse material. This is its HTTP API.</p>
<ul>
<li><a href="docs">API documentation</a> (every route, tried in the browser)</li>
<li><a href="openapi.json">openapi.json</a> (the machine-readable description)</li>
<li><a href="v1/health">v1/health</a> (is it up; are API keys required: {auth})</li>
</ul>
<p>Calls need an API key (<code>Authorization: Bearer &lt;key&gt;</code>); an operator makes
one with <code>hashguard keys create --scope match</code>.</p>
</body></html>
"""


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> HTMLResponse:
    auth = "required" if request.app.state.auth.required else "off"
    return HTMLResponse(PAGE.format(version=__version__, auth=auth))
