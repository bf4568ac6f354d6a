"""The YASGUI query page, with the named queries from `queries/` as example tabs."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.named_queries import NamedQuery, QueryRegistry
from api.service_description import endpoint_iri, void_iri
from api.sparql_text import QUERY_FORMS, tokens

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def example_tabs(registry: QueryRegistry) -> list[dict[str, str]]:
    """One tab per named query, named by its German title or its summary; parameters get their default (a
    required one without default its example) bound with VALUES."""
    return [
        {"name": query.title.get("de") or query.summary or query.name, "query": _runnable(query)} for query in registry
    ]


def _runnable(query: NamedQuery) -> str:
    values = {}
    for param in query.parameters:
        # An optional parameter left out means "all": binding its example (often an IRI of the demo town)
        # would give an empty tab on any other town's data.
        raw = param.default if param.default is not None else param.example if param.required else None
        if raw is not None:
            try:
                values[param.name] = query.bind({param.name: raw})[param.name]
            except ValueError:
                continue
    if not values:
        return query.sparql
    # The API writes each term in place of its variable (api/sparql_binding.py); in the editor, a VALUES block at the start of the
    # WHERE group has the same effect and stays visible and editable.
    clause = " ".join(f"VALUES ?{name} {{ {term} }}" for name, term in values.items())
    seen_form = False
    skip_template = False
    for tok in tokens(query.sparql):
        if tok.is_word(*QUERY_FORMS):
            seen_form = True
            skip_template = tok.is_word("CONSTRUCT")
        elif seen_form and tok.text == "{":
            if skip_template:
                skip_template = False
                continue
            at = tok.start + 1
            return f"{query.sparql[:at]}\n  {clause}{query.sparql[at:]}"
    return query.sparql


def yasgui_page(request: Request) -> HTMLResponse:
    """The HTML page with YASGUI, talking to this endpoint."""
    settings = request.app.state.settings
    return TEMPLATES.TemplateResponse(
        request,
        "yasgui.html",
        {
            "endpoint": endpoint_iri(settings).value,
            "void": void_iri(settings).value,
            "examples": example_tabs(request.app.state.queries),
            "municipality": settings.municipality_name,
        },
        headers={"Vary": "Accept"},
    )
