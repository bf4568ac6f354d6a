"""The interactive API documentation (Swagger UI) at `/docs`, from vendored files instead of FastAPI's CDN.

FastAPI's own `/docs` page loads Swagger UI from cdn.jsdelivr.net: in a closed municipal network it stays
blank, and allowing a CDN that serves any npm package in `script-src` would open the CSP to any script
published there. The app is created without FastAPI's pages (`docs_url=None`, `redoc_url=None`) and includes this
router instead. The vendored copy (`api/static/swagger-ui/`) is served by the app itself; the page's one
inline script is allowed by its hash (`api.security`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter()


@router.get("/docs", include_in_schema=False)
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for this API's OpenAPI document."""
    root = request.scope.get("root_path", "").rstrip("/")
    static = f"{root}/static/swagger-ui"
    return get_swagger_ui_html(
        openapi_url=root + (request.app.openapi_url or "/openapi.json"),
        title=f"{request.app.title} – API",
        swagger_js_url=f"{static}/swagger-ui-bundle.js",
        swagger_css_url=f"{static}/swagger-ui.css",
        swagger_favicon_url=f"{static}/favicon-32x32.png",
        swagger_ui_parameters=request.app.swagger_ui_parameters,
    )
