"""The staff web UI (ARCHITECTURE §7): dashboard, gap reports, search and entity pages, German first.

Server-rendered Jinja2 pages over the named queries, with their own static files (no CDN, no build
step) under `/static/ui/`. Every page runs its queries with the caller's visibility: anonymous
visitors see the public graphs only; staff (a bearer token, or the session cookie that `/login`
sets from one) see internal data too. Pages send a strict Content-Security-Policy: no inline script,
no inline style, nothing from other origins.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import math
import re
import secrets
import threading
import time
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from pyoxigraph import BlankNode, Literal, NamedNode

from api import gaps, harvested_pages, i18n, query_runs
from api.auth import ANONYMOUS, Principal, Role, authenticate, hash_token
from api.collation import sort_key
from api.conneg import HTML_OFFER, Offer, negotiate_optional
from api.derived import DERIVED_NS
from api.named_queries import ParameterError
from api.search import SearchInputError, question_topic, search_index
from loaders.categories import MUSTERDATENKATALOG_NS
from loaders.sdg import SdgIndex
from loaders.vocab import DCAT, DCT, FOAF, ORG, PREFIXES, PROV, QS, RDFS, SDG, SKOS, XSD

router = APIRouter(include_in_schema=False)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates" / "ui"))

SESSION_COOKIE = "querschnitt_session"
LANG_COOKIE = "querschnitt_lang"
SESSION_SECONDS = 8 * 3600
PAGE_SIZE = 100
TOP_BRIDGES = 5

# Kinds of instance IRIs (docs/model.md) that have a page; people only for staff.
PAGE_KINDS = ("department", "project", "dataset", "person", "indicator", "strategy", "municipality", "role")
SEARCH_TYPES = ("department", "project", "dataset", "person", "sdg")

_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
_TURTLE = Offer("turtle", "text/turtle", ("application/x-turtle",), ("turtle", "ttl"))
_JSONLD = Offer("jsonld", "application/ld+json", (), ("jsonld", "json-ld"))
# `{kind}/{id}` paths: IRI-unreserved characters only (letters of any script, as ids may have umlauts), no
# empty, "." or ".." segments.
_PATH = re.compile(r"^[^\W_][\w.~-]*(?:/(?!\.{1,2}(?:/|$))[\w.~-]+)*$")
# Controlled vocabularies whose IRIs end in a readable code (ENVI, CSV, dl-by-de/2.0).
_VOCABULARIES = ("http://publications.europa.eu/resource/authority/", "http://dcat-ap.de/def/")
# Namespaces of classes and properties: their terms show in prefixed form (sdgo:Target, qs:Project).
_VOCABULARY_NAMESPACES = tuple(ns for prefix, ns in PREFIXES.items() if prefix != "sdg")
# OWASP CSV injection: a cell starting with one of these is a formula in Excel and LibreOffice.
# Checked after NFKC normalisation, which folds every compatibility form (full-width ＝, small ﹦, …) into these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


# -- sessions --------------------------------------------------------------------------------------
# api.auth accepts only `Authorization: Bearer`, which a browser cannot send from a link or a form.
# This is the session layer for the UI: the cookie holds a random id, the role stays on the server.


class SessionStore:
    """Staff sessions made from a token at `/login`: random ids, kept in memory for SESSION_SECONDS."""

    def __init__(self, lifetime: float = SESSION_SECONDS):
        self.lifetime = lifetime
        self._sessions: dict[str, tuple[Role, float]] = {}
        self._lock = threading.Lock()

    def create(self, role: Role) -> str:
        """Start a session for `role`; returns the id to put in the cookie."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            now = time.monotonic()
            self._sessions = {k: v for k, v in self._sessions.items() if v[1] > now}
            self._sessions[_digest(sid)] = (role, now + self.lifetime)
        return sid

    def role(self, sid: str) -> Role | None:
        """The role of a live session, None for an unknown or expired id."""
        with self._lock:
            entry = self._sessions.get(_digest(sid))
        if entry is None or entry[1] <= time.monotonic():
            return None
        return entry[0]

    def drop(self, sid: str) -> None:
        """End a session."""
        with self._lock:
            self._sessions.pop(_digest(sid), None)


def _digest(sid: str) -> str:
    # Sessions are looked up by a hash of the id, so lookup timing says nothing about the id itself.
    return hashlib.sha256(sid.encode("utf-8")).hexdigest()


_SESSIONS_LOCK = threading.Lock()


def sessions(request: Request) -> SessionStore:
    """The app's session store, created on first use."""
    state = request.app.state
    with _SESSIONS_LOCK:
        if getattr(state, "ui_sessions", None) is None:
            state.ui_sessions = SessionStore()
    return state.ui_sessions


def principal_of(request: Request) -> Principal:
    """The caller: a bearer token wins (401 if invalid), else a live session cookie, else anonymous."""
    if request.headers.get("authorization"):
        return authenticate(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        role = sessions(request).role(sid)
        if role is not None:
            return Principal(role)
    return ANONYMOUS


def _role_for_token(request: Request, token: str) -> Role | None:
    digest = hash_token(token.strip())
    role = None
    for known, known_role in request.app.state.tokens:
        if hmac.compare_digest(known, digest):
            role = known_role
    return role


def _same_origin(request: Request) -> bool:
    """A form post comes from our own pages (Origin, else Referer, names this host); cross-site posts do not."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source:
        return True
    return urlsplit(source).netloc == request.headers.get("host", "")


def _local_path(target: str | None) -> str:
    """`target` if it is a path on this site, else `/`: no open redirects."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# -- language, rendering ---------------------------------------------------------------------------


@dataclass
class Page:
    """What every template gets: request, language, the caller and helpers."""

    request: Request
    principal: Principal
    lang: str
    set_lang_cookie: bool = False

    def t(self, key: str, **values: Any) -> str:
        return i18n.translate(self.lang, key, **values)

    @property
    def staff(self) -> bool:
        return self.principal.sees_internal


def page_for(request: Request) -> Page:
    """The caller and language of a request (`?lang=` wins, then the cookie, then Accept-Language)."""
    principal = principal_of(request)
    asked = request.query_params.get("lang")
    if asked in i18n.LANGUAGES:
        return Page(request, principal, asked, set_lang_cookie=True)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in i18n.LANGUAGES:
        return Page(request, principal, cookie)
    return Page(request, principal, i18n.from_accept_language(request.headers.get("accept-language")))


def render(page: Page, template: str, context: dict[str, Any], *, status: int = 200) -> HTMLResponse:
    """A page with the shared context and the UI's security and caching headers."""
    request = page.request
    context.setdefault("nav", "")
    other = "en" if page.lang == "de" else "de"
    switch = request.url.include_query_params(lang=other)
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "page": page,
            "t": page.t,
            "lang": page.lang,
            "other_lang": other,
            "lang_switch_url": f"{switch.path}?{switch.query}",
            "municipality": request.app.state.settings.municipality_name,
            "staff": page.staff,
            "role": page.principal.role.name.lower(),
            "here": here(request),
            "gap_kinds": list(gaps.KINDS),
            **context,
        },
        status_code=status,
    )
    response.headers["Content-Security-Policy"] = _CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Language"] = page.lang
    response.headers["Vary"] = "Accept, Accept-Language, Cookie, Authorization"
    response.headers["Cache-Control"] = "private, no-store" if page.staff else "private, max-age=0"
    if page.set_lang_cookie:
        response.set_cookie(LANG_COOKIE, page.lang, max_age=365 * 86400, httponly=True, samesite="lax", path="/")
    return response


def here(request: Request) -> str:
    """The current path and query without `lang`, for the login form's return address."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return request.url.path + (f"?{urlencode(query)}" if query else "")


# -- data access -----------------------------------------------------------------------------------


def _rows(page: Page, sparql: str, substitutions: dict | None = None) -> list[dict[str, Any]]:
    """SELECT rows as dicts of variable name → term, over the graphs the caller may see."""
    result = page.request.app.state.store.query(
        sparql,
        include_internal=page.staff,
        substitutions=substitutions,
        base_iri=None,
    )
    names = [v.value for v in result.variables]
    return [{n: row[n] for n in names if row[n] is not None} for row in result]


def _prefixes(*names: str) -> str:
    return "".join(f"PREFIX {n}: <{PREFIXES[n]}>\n" for n in names)


_Q = _prefixes("rdf", "rdfs", "skos", "dct", "dcat", "foaf", "org", "prov", "qs", "sdgo")


Unavailable = gaps.Unavailable


def named(page: Page, name: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Every row of named query `name` for the caller, through the executor; Unavailable if it is not installed.

    Of `params`, only those the query declares are bound (a narrowing the caller filters for anyway),
    so a page works with queries that offer fewer parameters than it could use.
    """
    return gaps.named(page.request.app, page.principal, name, params, max_rows=0).rows


def sdg() -> SdgIndex:
    return SdgIndex.builtin()


def _is_sdg(iri: str) -> bool:
    try:
        sdg().kind(iri)
    except KeyError:
        return False
    return True


def page_path(request: Request, iri: str) -> str | None:
    """The `/page/...` path of an entity IRI, or None when it has no page here."""
    base = request.app.state.settings.base_iri
    if iri.startswith(base):
        rest = iri[len(base) :]
        kind = rest.split("/", 1)[0]
        if kind in PAGE_KINDS and "#" not in rest and _PATH.match(rest):
            return rest
        return None
    if iri.startswith(str(SDG)) and _is_sdg(iri):
        return "sdg/" + sdg().notation(iri)
    return None


def page_href(request: Request, iri: str, principal: Principal) -> str | None:
    """The site-relative address of an entity's page, or None when it has none here: `/page/{kind}/{id}` for an
    IRI under the base, `/page/sdg/…`, and `/page/dataset?iri=…` for a harvested dataset `principal` may see."""
    path = page_path(request, iri)
    if path is not None:
        return "/page/" + quote(path, safe="/")
    if not iri.startswith(request.app.state.settings.base_iri) and iri in harvested_pages.dataset_iris(
        request.app, principal
    ):
        return harvested_pages.href(iri)
    return None


@dataclass(frozen=True)
class Ref:
    """A link to an entity as the pages show it."""

    iri: str
    label: str
    href: str | None
    kind: str
    goal: int | None = None
    code: str | None = None

    def __str__(self) -> str:
        return self.label


class Labels:
    """Labels of IRIs in the page's language, looked up once per request (many at once with `prefetch`)."""

    _SPARQL = _Q + "SELECT ?s ?label WHERE { ?s foaf:name|dct:title|skos:prefLabel|rdfs:label ?label }"
    # The same alternatives for many IRIs in one query, numbered so that each IRI's candidates keep their order.
    _MANY = (
        _Q
        + """SELECT ?s ?label ?i WHERE { $s
  { ?s foaf:name ?label BIND(0 AS ?i) } UNION { ?s dct:title ?label BIND(1 AS ?i) }
  UNION { ?s skos:prefLabel ?label BIND(2 AS ?i) } UNION { ?s rdfs:label ?label BIND(3 AS ?i) }
}"""
    )
    _PREDICATES = (FOAF.name.value, DCT["title"].value, SKOS.prefLabel.value, RDFS.label.value)
    _CHUNK = 500

    def __init__(self, page: Page):
        self.page = page
        self.cache: dict[str, str | None] = {}

    def label(self, iri: str) -> str | None:
        if iri in self.cache:
            return self.cache[iri]
        if _is_sdg(iri):
            value: str | None = sdg().label(iri, self.page.lang)
        else:
            rows = _rows(self.page, self._SPARQL, {"s": NamedNode(iri)})
            value = _pick_language([r["label"] for r in rows if isinstance(r.get("label"), Literal)], self.page.lang)
        self.cache[iri] = value
        return value

    def learn(self, iri: str, values: dict[str, list[Any]]) -> None:
        """Take the label of `iri` from its own statements (predicate IRI → objects), as `label` would find it."""
        candidates = [o for p in self._PREDICATES for o in values.get(p, []) if isinstance(o, Literal)]
        self.cache.setdefault(iri, _pick_language(candidates, self.page.lang))

    def prefetch(self, iris: Iterable[str]) -> None:
        """Look up the labels of many IRIs with one query per few hundred, so that `label` finds them cached."""
        todo = sorted({i for i in iris if i not in self.cache and not _is_sdg(i)})
        for start in range(0, len(todo), self._CHUNK):
            chunk = [NamedNode(i) for i in todo[start : start + self._CHUNK]]
            found: dict[str, list[tuple[int, Literal]]] = defaultdict(list)
            for row in _about(self.page, self._MANY, s=chunk):
                if isinstance(row.get("label"), Literal):
                    found[row["s"].value].append((int(row["i"].value), row["label"]))
            for node in chunk:
                # Predicates in LABELS' order, then the least name first: the choice gaps.labels makes too.
                ordered = [
                    lit for _, lit in sorted(found.get(node.value, []), key=lambda pair: (pair[0], pair[1].value))
                ]
                self.cache[node.value] = _pick_language(ordered, self.page.lang)

    def ref(self, term: NamedNode | str) -> Ref:
        iri = term.value if isinstance(term, NamedNode) else term
        href = page_href(self.page.request, iri, self.page.principal)
        if _is_sdg(iri):
            index = sdg()
            goal = int(index.notation(index.goal_of(iri)))
            return Ref(iri, index.label(iri, self.page.lang), href, index.kind(iri), goal, index.notation(iri))
        path = page_path(self.page.request, iri)
        kind = path.split("/", 1)[0] if path else "dataset" if href else "other"
        return Ref(iri, self.label(iri) or _short_iri(iri), href, kind)


_pick_language = gaps.pick_label


def _vocabulary_code(iri: str) -> str:
    """The code of a controlled-vocabulary IRI: `…/data-theme/ENVI` → ENVI, `…/licenses/dl-by-de/2.0` → dl-by-de/2.0."""
    for prefix in _VOCABULARIES:
        if iri.startswith(prefix):
            return iri[len(prefix) :].partition("/")[2] or iri
    return iri


def _short_iri(iri: str) -> str:
    """`sdgo:Target` for an IRI in a known namespace (the longest match), else its last segment."""
    matches = [(len(ns), p) for p, ns in PREFIXES.items() if iri.startswith(ns) and len(iri) > len(ns)]
    if matches:
        length, prefix = max(matches)
        return f"{prefix}:{iri[length:]}"
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri


# -- values as the pages show them -----------------------------------------------------------------


@dataclass(frozen=True)
class Value:
    """A literal or external link, ready to show: text, and an href for links."""

    text: str
    href: str | None = None
    number: float | None = None

    def __str__(self) -> str:
        return self.text


def show(labels: Labels, term: Any) -> Ref | Value:
    """An RDF term as the pages show it: entities as links to their page, literals formatted."""
    if isinstance(term, NamedNode):
        iri = term.value
        if iri.startswith(str(QS)):
            key = f"term.{_short_iri(iri)}"
            text = labels.page.t(key)
            return Value(_short_iri(iri) if text == key else text)
        if _is_sdg(iri) or page_href(labels.page.request, iri, labels.page.principal):
            return labels.ref(term)
        if iri.startswith("mailto:"):
            return Value(iri.removeprefix("mailto:"), iri)
        if iri.startswith("tel:"):
            return Value(iri.removeprefix("tel:"), iri)
        if any(iri.startswith(ns) for ns in _VOCABULARY_NAMESPACES):
            return Value(_short_iri(iri))
        label = labels.label(iri)
        if iri.startswith(_VOCABULARIES):
            return Value(label or _vocabulary_code(iri), iri)
        return Value(label or iri, iri if iri.startswith(("http://", "https://")) else None)
    if isinstance(term, BlankNode):
        return Value("[…]")
    if isinstance(term, Literal):
        return _literal(term, labels.page.lang)
    return Value(str(term))


def _literal(literal: Literal, lang: str) -> Value:
    datatype = literal.datatype.value if literal.datatype else ""
    if datatype == XSD.date.value:
        try:
            day = date.fromisoformat(literal.value)
        except ValueError:
            return Value(literal.value)
        return Value(day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat())
    if datatype in (XSD.integer.value, XSD.decimal.value, XSD.double.value, XSD.float.value, XSD.int.value):
        try:
            number = Decimal(literal.value)
        except InvalidOperation:
            return Value(literal.value)
        return Value(format_number(number, lang), number=float(number))
    return Value(literal.value)


def format_number(number: Decimal | float | int, lang: str, *, digits: int = 2) -> str:
    """A number in the page's language: 1.234,5 (de) or 1,234.5 (en)."""
    value = float(number)
    text = f"{value:,.0f}" if value == int(value) else f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_share(number: float, lang: str) -> str:
    """A share 0–1 as a percentage: "86 %" (de), "86%" (en)."""
    percent = round(number * 100)
    return f"{percent} %" if lang == "de" else f"{percent}%"


# -- the heatmap colours ---------------------------------------------------------------------------

# Shading levels: share of the goal colour mixed into white for cells with 1…4 quarters of the maximum.
LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _channel(value: float) -> float:
    value /= 255
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Relative luminance of "#RRGGBB" (WCAG 2.1 §1.4.3)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever contrasts more with `background` (always ≥ 4.5:1 for one of them)."""
    return "#000000" if contrast(background, "#000000") >= contrast(background, "#ffffff") else "#ffffff"


def mix(colour: str, share: float) -> str:
    """`share` of `colour` mixed into white."""
    channels = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#" + "".join(f"{round(255 - (255 - c) * share):02x}" for c in channels)


@cache
def goal_css() -> str:
    """CSS classes for the 17 goal colours (`.g1` …) and heatmap shades (`.g1.l1` …), from the taxonomy."""
    index = sdg()
    lines = ["/* Generated from the SDG taxonomy (ontology/sdg.ttl): official goal colours, WCAG text colours. */"]
    for goal in index.goals():
        n, colour = index.notation(goal), index.colour(goal)
        ink = text_colour(colour)
        lines.append(f".g{n},a.g{n},a.g{n}:visited{{--goal:{colour};background-color:{colour};color:{ink}}}")
        for level in range(1, len(LEVELS)):
            shade = mix(colour, LEVELS[level])
            lines.append(f"td.g{n}.l{level}{{background-color:{shade};color:{text_colour(shade)}}}")
        lines.append(f"td.g{n}.l0{{background-color:#ffffff;color:#595959}}")
        lines.append(f".chip.g{n}{{border-color:{colour}}}")
    return "\n".join(lines) + "\n"


@router.get("/ui/sdg-colours.css")
def sdg_colours_css() -> Response:
    """The goal colour classes as a style sheet (kept out of the HTML: the CSP forbids inline styles)."""
    return Response(goal_css(), media_type="text/css", headers={"Cache-Control": "public, max-age=86400"})


# -- pages: login, logout --------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The staff login: a form for the token."""
    page = page_for(request)
    return render(page, "login.html", {"next": _local_path(next), "error": None, "title": page.t("login.title")})


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the token and start a session (secure, HttpOnly, SameSite=Strict cookie)."""
    page = page_for(request)
    if not _same_origin(request):
        return render(page, "login.html", {"next": "/", "error": "login.cross_site", "title": ""}, status=403)
    checks = request.app.state.failed_checks
    client, now = (request.client.host if request.client else "unknown"), time.monotonic()
    wait = checks.wait(client, now)
    if wait > 0:
        # The same bound as for bearer tokens (api/auth.py): the form is no way around it.
        context = {"next": _local_path(next), "error": "login.too_many", "title": page.t("login.title")}
        response = render(page, "login.html", context, status=429)
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    role = _role_for_token(request, token) if token.strip() else None
    if role is None:
        checks.failed(client, now)
        context = {"next": _local_path(next), "error": "login.invalid", "title": page.t("login.title")}
        return render(page, "login.html", context, status=401)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        sessions(request).drop(old)
    response = RedirectResponse(_local_path(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, sessions(request).create(role), httponly=True, secure=True, samesite="strict", path="/"
    )
    return response


@router.get("/logout")
def logout_form(request: Request) -> HTMLResponse:
    """A page with the logout button (logging out changes state, so it is a POST)."""
    page = page_for(request)
    return render(page, "logout.html", {"title": page.t("logout.title")})


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session and drop the cookie."""
    if not _same_origin(request):
        return Response(status_code=403)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        sessions(request).drop(sid)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


# -- dashboard -------------------------------------------------------------------------------------

_COUNTS = (
    _Q
    + """SELECT (COUNT(DISTINCT ?project) AS ?projects) (COUNT(DISTINCT ?dataset) AS ?datasets) WHERE {
  { ?project a qs:Project } UNION { ?dataset a dcat:Dataset }
}"""
)


@dataclass
class Heatmap:
    goals: list[Ref]
    rows: list[tuple[Ref, list[tuple[int, int]]]]  # department, per goal (count, level)
    maximum: int
    legend: list[tuple[int, str]]  # level, the counts it stands for ("0", "1", "2–3")


def shade(n: int, maximum: int) -> int:
    """The shade of a cell: the count itself up to 4, else a quarter of the maximum (0 only for 0)."""
    if n <= 0:
        return 0
    return n if maximum <= 4 else max(1, math.ceil(4 * n / maximum))


def legend(maximum: int) -> list[tuple[int, str]]:
    """The shades the data uses, each with the counts it stands for: a scale that ends at the maximum."""
    counts: dict[int, list[int]] = defaultdict(list)
    for n in range(maximum + 1):
        counts[shade(n, maximum)].append(n)
    return [(level, str(ns[0]) if len(ns) == 1 else f"{ns[0]}\u2013{ns[-1]}") for level, ns in sorted(counts.items())]


def heatmap(page: Page, labels: Labels, *, departments_shown: set[str] | None = None) -> Heatmap:
    """Department × goal project counts from `coverage-matrix`: every department (of `departments_shown`, if
    given), a row of zeros too."""
    counts: dict[str, dict[int, int]] = defaultdict(dict)
    for row in named(page, "coverage-matrix"):
        department, goal = row.get("department"), row.get("goal")
        if not isinstance(department, NamedNode) or not isinstance(goal, NamedNode) or not _is_sdg(goal.value):
            continue
        n = int(sdg().notation(sdg().goal_of(goal)))
        counts[department.value][n] = counts[department.value].get(n, 0) + int(row["projects"].value)
    # The query's matrix is complete, but a department the caller sees without any row still gets one:
    # a department that works on no goal is a finding, not noise.
    for department in departments(page, labels):
        counts.setdefault(department.iri, {})
    if departments_shown is not None:
        counts = defaultdict(dict, {d: c for d, c in counts.items() if d in departments_shown})
    maximum = max((c for per in counts.values() for c in per.values()), default=0)
    goals = [labels.ref(g) for g in sdg().goals()]
    rows = []
    for iri in counts:
        ref = labels.ref(iri)
        cells = []
        for goal in goals:
            n = counts[iri].get(goal.goal or 0, 0)
            cells.append((n, shade(n, maximum)))
        rows.append((ref, cells))
    rows.sort(key=lambda r: sort_key(r[0].label))
    return Heatmap(goals, rows, maximum, legend(maximum))


@dataclass
class Bridge:
    a: Ref
    b: Ref
    targets: list[Ref]


def bridges(
    page: Page, labels: Labels, *, limit: int | None = None, departments_shown: set[str] | None = None
) -> list[Bridge]:
    """Department pairs (within one administration; of `departments_shown`, if given) without a joint project,
    most shared targets first."""
    result = []
    found = gaps.bridges(page.request.app, page.principal)
    if departments_shown is not None:
        found = [b for b in found if b[0] in departments_shown]
    for a, b, targets in found[:limit]:
        shared = sorted((labels.ref(t) for t in targets), key=lambda r: _code_key(r.code or ""))
        result.append(Bridge(labels.ref(a), labels.ref(b), shared))
    return result


_code_key = gaps.code_key


_ADMINISTRATION_COUNTS = (
    _Q
    + "PREFIX qsd: <https://w3id.org/querschnitt/derived#>\n"
    + """SELECT (COUNT(DISTINCT ?project) AS ?projects) (COUNT(DISTINCT ?dataset) AS ?datasets) WHERE {
  { ?project a qs:Project ; qsd:member ?department } UNION { ?dataset a dcat:Dataset ; dct:creator ?department }
}"""
)


@router.get("/")
def dashboard(request: Request, administration: str = "") -> HTMLResponse:
    """The dashboard: headline counts, the department × goal heatmap, the top missing bridges; with several
    administrations (district offices, a region's municipalities) for one of them (`administration=`)."""
    page = page_for(request)
    labels = Labels(page)
    administration_of = gaps.administrations_of(request.app, page.principal)
    units = sorted(set(administration_of.values()))
    admin = administration if administration in units and len(units) > 1 else None
    mine = {d for d, a in administration_of.items() if a == admin} if admin else None
    if mine is None:
        counts_row = _rows(page, _COUNTS)[0]
    else:
        values = {"department": [NamedNode(d) for d in sorted(mine)]}
        counts_row = query_runs.select(request.app, page.principal, _ADMINISTRATION_COUNTS, values, max_rows=0).rows[0]
    counts: dict[str, int | None] = {
        "projects": int(counts_row["projects"].value),
        "datasets": int(counts_row["datasets"].value),
    }
    try:
        counts["missing-bridges"] = len(
            gaps.report(request.app, page.principal, "missing-bridges", administration=admin).rows
        )
    except Unavailable:
        counts["missing-bridges"] = None
    try:
        counts["blind-spots"] = gaps.count(request.app, page.principal, "blind-spots")
    except Unavailable:
        counts["blind-spots"] = None
    try:
        matrix: Heatmap | None = heatmap(page, labels, departments_shown=mine)
    except Unavailable:
        matrix = None
    try:
        top: list[Bridge] | None = bridges(page, labels, limit=TOP_BRIDGES, departments_shown=mine)
    except Unavailable:
        top = None
    options = sorted((labels.ref(a) for a in units), key=lambda r: sort_key(r.label)) if len(units) > 1 else []
    return render(
        page,
        "dashboard.html",
        {
            "title": page.t("dashboard.title"),
            "nav": "dashboard",
            "counts": counts,
            "heatmap": matrix,
            "bridges": top,
            "administrations": options,
            "administration": admin or "",
        },
    )


def bridge_sentence(page: Page, bridge: Bridge) -> Markup:
    """One sentence per missing bridge, with links: "Tiefbauamt und Umweltamt arbeiten beide an 11.2 …"."""
    shown = bridge.targets[:3]
    parts = [Markup('<a class="chip g{}" href="{}">{}</a> {}').format(t.goal, t.href, t.code, t.label) for t in shown]
    more = len(bridge.targets) - len(shown)
    if more:
        parts.append(Markup.escape(page.t("bridge.more", n=more)))
    joined = parts[0] if len(parts) == 1 else Markup(", ").join(parts[:-1]) + Markup(page.t("and")) + parts[-1]
    return Markup(page.t("bridge.sentence")).format(a=link(bridge.a), b=link(bridge.b), targets=joined)


TEMPLATES.env.globals["bridge_sentence"] = bridge_sentence


def link(ref: Ref) -> Markup:
    """An entity as a link to its page (plain text if it has none)."""
    if ref.href:
        return Markup('<a href="{}">{}</a>').format(ref.href, ref.label)
    return Markup.escape(ref.label)


# -- gap reports -----------------------------------------------------------------------------------

_DEPARTMENTS = (
    _Q
    + "SELECT ?department ?name WHERE { ?department a org:OrganizationalUnit . OPTIONAL { ?department foaf:name ?name } }"
)


Cell = Ref | Value | list[Ref]


@dataclass
class Report:
    kind: str
    columns: list[str]
    rows: list[list[Cell]]
    total: int


def departments(page: Page, labels: Labels) -> list[Ref]:
    """Every department the caller may see, by name."""
    refs = {}
    for row in _rows(page, _DEPARTMENTS):
        iri = row["department"].value
        if "name" in row:
            labels.cache.setdefault(iri, row["name"].value)
        refs[iri] = labels.ref(iri)
    return sorted(refs.values(), key=lambda r: sort_key(r.label))


def gap_report(
    page: Page,
    labels: Labels,
    kind: str,
    *,
    department: str | None,
    goal: int | None,
    rows: slice = slice(None),
    scope: str = "administration",
    administration: str | None = None,
) -> Report:
    """The `rows` (all by default) of gap report `kind` as api/gaps.py filters and orders it, as cells, with
    the departments holding its datasets and running its projects after them; `total` counts every row."""
    app = page.request.app
    found = gaps.report(
        app,
        page.principal,
        kind,
        department=department,
        goal=goal,
        with_holders=True,
        lang=page.lang,
        scope=scope,
        administration=administration,
    )
    total = len(found.rows)
    found.rows = found.rows[rows]
    if page.lang == "de":
        for iri, name in found.names().items():
            labels.cache.setdefault(iri, name)
    todo = {i for i in found.iris() if i not in labels.cache and not _is_sdg(i)}
    named_here = gaps.labels(app, page.principal, todo, page.lang)
    labels.cache.update({iri: named_here.get(iri) for iri in todo})
    columns = list(found.columns)
    holders = gaps.HOLDERS.get(kind, {})
    shown = []
    for row in found.rows:
        cells: list[Cell] = []
        for column in columns:
            term = row.get(column)
            if term is None:
                cells.append(Value(""))
            elif column == "shared_share" and isinstance(term, Literal):
                cells.append(Value(format_share(float(term.value), page.lang), number=float(term.value)))
            else:
                cells.append(show(labels, term))
            if column in holders:
                iris = found.holders.get(term.value, []) if isinstance(term, NamedNode) else []
                cells.append(sorted((labels.ref(d) for d in iris), key=lambda r: sort_key(r.label)))
        shown.append(cells)
    columns = [c for column in columns for c in ((column, holders[column]) if column in holders else (column,))]
    return Report(kind, columns, shown, total)


def unused_report(
    page: Page,
    labels: Labels,
    *,
    view: str,
    department: str | None,
    goal: int | None,
    project: str | None = None,
    dataset: str | None = None,
    rows: slice = slice(None),
) -> Report:
    """unused-datasets as staff read it: per project (the datasets on its targets it could use: how many, the
    first few) or per dataset (the projects that could use it), or every row of one project or one dataset."""
    app = page.request.app
    data = gaps.unused_data(app, page.principal)
    sdg_iri = sdg().resolve(str(goal)).value if goal else None

    def known(iris: Iterable[str]) -> None:
        # The names the grouping read already, for this page's entities only (not every entity of the report).
        for iri in iris:
            if iri in data.labels:
                labels.cache.setdefault(iri, data.labels[iri])

    def departments_of(iris: Iterable[str]) -> list[Ref]:
        return sorted((labels.ref(d) for d in iris), key=lambda r: sort_key(r.label))

    def drill(key: str, iri: str) -> str:
        return "/gaps/unused-datasets?" + urlencode({**({"goal": goal} if goal else {}), key: iri})

    if project or dataset:
        flat = gaps.unused_rows(app, page.principal, project=project, dataset=dataset, sdg_iri=sdg_iri)
        known(i for d, p, _ in flat[rows] for i in (d, p, *data.holders.get(d, ()), *data.members.get(p, ())))
        shown = [
            [
                labels.ref(d),
                departments_of(data.holders.get(d, ())),
                labels.ref(p),
                departments_of(data.members.get(p, ())),
                labels.ref(t),
            ]
            for d, p, t in flat[rows]
        ]
        columns = ["dataset", "dataset_departments", "project", "project_departments", "target"]
        return Report("unused-datasets", columns, shown, len(flat))
    view = "datasets" if view == "datasets" else "projects"
    groups = gaps.unused_groups(app, page.principal, view=view, department=department, sdg_iri=sdg_iri)
    holders = {g.entity: gaps.unused_departments(app, page.principal, g.entity) for g in groups[rows]}
    known(i for g in groups[rows] for i in (g.entity, *g.first, *holders[g.entity]))
    shown = [
        [
            labels.ref(g.entity),
            departments_of(holders[g.entity]),
            Value(str(g.count), drill(view[:-1], g.entity), number=g.count),
            [labels.ref(other) for other in g.first],
        ]
        for g in groups[rows]
    ]
    return Report("unused-datasets", list(gaps.UNUSED_VIEWS[view]), shown, len(groups))


def _goal_param(raw: str | None) -> int | None:
    if raw and raw.isdigit() and 1 <= int(raw) <= 17:
        return int(raw)
    return None


@router.get("/gaps")
def gaps_index(request: Request) -> HTMLResponse:
    """The list of gap reports, each with its row count."""
    page = page_for(request)
    entries = []
    for kind in gaps.KINDS:
        try:
            count: int | None = gaps.count(request.app, page.principal, kind)
        except Unavailable:
            count = None
        entries.append((kind, count))
    return render(page, "gaps.html", {"title": page.t("gaps.title"), "nav": "gaps", "entries": entries})


@router.get("/gaps/{kind}")
def gap_page(
    request: Request,
    kind: str,
    department: str = "",
    goal: str = "",
    fmt: Annotated[str, Query(alias="format")] = "",
    view: str = "",
    project: str = "",
    dataset: str = "",
    scope: str = "",
    administration: str = "",
) -> Response:
    """One gap report with filters (department, goal), paged; `?format=csv|xlsx` exports every filtered row.

    unused-datasets is grouped (`view=projects`, the default, or `view=datasets`); `project=` / `dataset=`
    list every row of one project or one dataset."""
    page = page_for(request)
    if kind not in gaps.KINDS:
        return not_found(page)
    labels = Labels(page)
    number = _int(request.query_params.get("page"), 1)
    dept_options = departments(page, labels)
    dept = department if department in {d.iri for d in dept_options} and "department" in gaps.KINDS[kind] else None
    goal_n = _goal_param(goal) if "goal" in gaps.KINDS[kind] else None
    exporting = fmt in ("csv", "xlsx")
    view = "datasets" if view == "datasets" else "projects"
    drill = {k: v for k, v in (("project", project), ("dataset", dataset)) if v} if kind == "unused-datasets" else {}

    # Several administrations (a town's district offices, a region's municipalities): filter by one, and pair
    # departments across them only when asked.
    units = sorted({a for a in gaps.administrations_of(page.request.app, page.principal).values()})
    admin_options = sorted((labels.ref(a) for a in units), key=lambda r: sort_key(r.label)) if len(units) > 1 else []
    admin = administration if administration in units and kind != "unused-datasets" else None
    scope = "all" if scope == "all" and kind in gaps.PAIRS else "administration"

    def build(rows: slice) -> Report:
        if kind == "unused-datasets":
            return unused_report(page, labels, view=view, department=dept, goal=goal_n, rows=rows, **drill)
        return gap_report(
            page, labels, kind, department=dept, goal=goal_n, rows=rows, scope=scope, administration=admin
        )

    def page_rows(number: int) -> slice:
        return slice(None) if exporting else slice((number - 1) * PAGE_SIZE, number * PAGE_SIZE)

    try:
        # A page renders only its own rows; a page number past the end is built again as the last page.
        number = max(number, 1)
        report = build(page_rows(number))
        pages = max(1, math.ceil(report.total / PAGE_SIZE))
        if number > pages:
            number = pages
            report = build(page_rows(number))
    except Unavailable:
        report, pages, number = None, 1, 1
    if exporting:
        if report is None:
            return render(page, "error.html", {"title": page.t("report.unavailable"), "status": 503}, status=503)
        return export(page, report, fmt)
    filters = {k: v for k, v in (("department", dept or ""), ("goal", str(goal_n or ""))) if v}
    filters.update({k: v for k, v in (("administration", admin), ("scope", "all" if scope == "all" else "")) if v})
    if kind == "unused-datasets":
        filters.update(drill or ({"view": view} if view == "datasets" else {}))
    return render(
        page,
        "gap.html",
        {
            "title": page.t(f"gap.{kind}.title"),
            "nav": "gaps",
            "kind": kind,
            "report": report,
            "rows": report.rows if report else [],
            "first": (number - 1) * PAGE_SIZE + 1,
            "page_number": number,
            "pages": pages,
            "departments": dept_options,
            "goals": [labels.ref(g) for g in sdg().goals()],
            "filters_allowed": gaps.KINDS[kind],
            "department": dept or "",
            "goal": goal_n,
            "view": view if kind == "unused-datasets" else None,
            "administrations": admin_options,
            "administration": admin or "",
            "pairs_across": scope == "all" if kind in gaps.PAIRS and admin_options else None,
            "drill": {k: labels.ref(v) for k, v in drill.items()},
            "query": urlencode(filters),
            "query_without_view": urlencode({k: v for k, v in filters.items() if k != "view"}),
            "page_url": lambda n: f"/gaps/{kind}?" + urlencode({**filters, "page": n}),
        },
    )


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdigit() else default


def spreadsheet_safe(text: str) -> str:
    """Text that a spreadsheet shows as text: a leading formula character gets an apostrophe (OWASP)."""
    first = unicodedata.normalize("NFKC", text[:1])
    return "'" + text if first.startswith(_FORMULA_START) else text


def export_table(page: Page, report: Report) -> tuple[list[str], list[list[str | float]]]:
    """Header and rows for CSV/XLSX, for people: the columns' names in the page's language, labels first and
    the entities' IRIs in the last columns; numbers stay numbers; several departments in one cell."""
    entity = [any(isinstance(cells[i], Ref | list) for cells in report.rows) for i in range(len(report.columns))]
    names = [page.t(f"col.{column}") for column in report.columns]
    header = names + [f"{name} (IRI)" for name, is_entity in zip(names, entity, strict=True) if is_entity]
    rows: list[list[str | float]] = []
    for cells in report.rows:
        shown: list[str | float] = []
        iris: list[str | float] = []
        for cell, is_entity in zip(cells, entity, strict=True):
            if isinstance(cell, list):
                shown.append(spreadsheet_safe(", ".join(r.label for r in cell)))
                iris.append(" ".join(r.iri for r in cell))
            elif isinstance(cell, Ref):
                # An SDG goal or target with its code, as the pages show it ("11.2 Sichere, bezahlbare …").
                shown.append(spreadsheet_safe(f"{cell.code} {cell.label}" if cell.code else cell.label))
                iris.append(cell.iri)
            elif cell.number is not None:
                shown.append(round(cell.number, 6))
            else:
                shown.append(spreadsheet_safe(cell.text))
                if is_entity:
                    iris.append(spreadsheet_safe(cell.href or ""))
        rows.append(shown + iris)
    return header, rows


def export(page: Page, report: Report, fmt: str) -> Response:
    """The report for a spreadsheet, with formula injection neutralised: CSV as Excel opens it in Germany
    (`;`-separated, decimal comma, UTF-8 with BOM) or XLSX (bold frozen header, auto-filter, column widths).
    The machine formats (SPARQL CSV/TSV/JSON) are on /queries/{name}."""
    header, rows = export_table(page, report)
    name = f"querschnitt-{report.kind}"
    headers = {"Vary": "Accept-Language, Cookie, Authorization", "Cache-Control": "private, no-store"}
    if fmt == "csv":
        buffer = io.StringIO()
        # Excel reads a `;`-separated file in German locales without the import wizard (the list separator
        # there), and only recognises UTF-8 with the byte order mark.
        writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([[_csv_cell(c) for c in row] for row in rows])
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\\/*?:\[\]]", "", page.t(f"gap.{report.kind}.title"))[:31]  # Excel forbids these
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever openpyxl would infer
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(zip(header, *rows, strict=True), start=1):
        widest = max(len(str(value)) for value in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(widest, 8) + 2, 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    headers["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )


def _csv_cell(value: str | float) -> str:
    """A number as German Excel reads it (decimal comma); text as it is."""
    if isinstance(value, float):
        text = repr(value) if value != int(value) else str(int(value))
        return text.replace(".", ",")
    return value


# -- search ----------------------------------------------------------------------------------------

# Kinds of search hits (api.search.Kind) → the groups of the results page.
_HIT_GROUPS = {"goal": "sdg", "target": "sdg", "indicator": "sdg"}


@dataclass
class Hit:
    ref: Ref
    type: str
    snippet: str = ""
    departments: tuple[str, ...] = ()  # IRIs: a project's lead and partners, a dataset's creator


def run_search(
    page: Page, labels: Labels, q: str, *, type_: str = "", goal: int | None = None, department: str = ""
) -> tuple[list[Hit], int, str, bool]:
    """Hits of the search index (api.search) for the caller, best first; with the total, how they matched and
    whether the index had caught up with the last write."""
    types = (["goal", "target", "indicator"] if type_ == "sdg" else [type_]) if type_ else None
    results = search_index(page.request).search(
        q,
        include_internal=page.staff,
        types=types,
        goal=str(goal) if goal else None,
        department=department or None,
        limit=100,
    )
    hits = []
    for hit in results.hits:
        labels.cache.setdefault(hit.iri, hit.label)
        for department in hit.departments:
            labels.cache.setdefault(department.iri, department.label)
        group = _HIT_GROUPS.get(hit.type.value, hit.type.value)
        hits.append(Hit(labels.ref(hit.iri), group, hit.snippet or "", tuple(d.iri for d in hit.departments)))
    return hits, results.total, results.matched, results.complete


def who_works_on(page: Page, labels: Labels, code: str) -> dict[str, Any] | None:
    """Departments, their projects and (staff) people working on an SDG goal or target."""
    try:
        rows = named(page, "who-works-on", {"sdg": code})
    except ParameterError:
        return None
    by_department: dict[str, set[str]] = defaultdict(set)
    people: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        department, project = row.get("department"), row.get("project")
        if isinstance(department, NamedNode) and isinstance(project, NamedNode):
            by_department[department.value].add(project.value)
        if isinstance(row.get("person"), NamedNode) and isinstance(project, NamedNode):
            people[row["person"].value].add(project.value)
    concept = sdg().resolve(code)
    return {
        "concept": labels.ref(concept) if concept else None,
        "departments": sorted(
            (
                (labels.ref(d), sorted((labels.ref(p) for p in ps), key=lambda r: sort_key(r.label)))
                for d, ps in by_department.items()
            ),
            key=lambda pair: (-len(pair[1]), sort_key(pair[0].label)),
        ),
        "people": sorted(
            (
                (labels.ref(p), sorted((labels.ref(x) for x in ps), key=lambda r: sort_key(r.label)))
                for p, ps in people.items()
                if page.staff
            ),
            key=lambda pair: sort_key(pair[0].label),
        ),
    }


_CONTACTS = _Q + "SELECT ?project ?person WHERE { $project ?project qs:contactPerson ?person }"


def who_works_on_topic(page: Page, labels: Labels, topic: str, hits: list[Hit]) -> dict[str, Any]:
    """The departments behind the projects and datasets a search found, most projects first, with those
    projects and datasets and (staff) the projects' contact persons: the answer to "Wer arbeitet an …?"."""
    projects: dict[str, list[Ref]] = defaultdict(list)
    datasets: dict[str, list[Ref]] = defaultdict(list)
    for hit in hits:
        for department in hit.departments:
            if hit.type == "project":
                projects[department].append(hit.ref)
            elif hit.type == "dataset":
                datasets[department].append(hit.ref)
    people: list[tuple[Ref, list[Ref]]] = []
    found = [h.ref for h in hits if h.type == "project" and h.departments]
    if page.staff and found:
        by_person: dict[str, list[Ref]] = defaultdict(list)
        by_iri = {r.iri: r for r in found}
        for row in _about(page, _CONTACTS, project=[NamedNode(r.iri) for r in found]):
            by_person[row["person"].value].append(by_iri[row["project"].value])
        labels.prefetch(by_person)
        people = sorted(
            ((labels.ref(p), sorted(ps, key=lambda r: sort_key(r.label))) for p, ps in by_person.items()),
            key=lambda pair: sort_key(pair[0].label),
        )
    rows = [
        (
            labels.ref(d),
            sorted(projects.get(d, []), key=lambda r: sort_key(r.label)),
            sorted(datasets.get(d, []), key=lambda r: sort_key(r.label)),
        )
        for d in {*projects, *datasets}
    ]
    rows.sort(key=lambda row: (-len(row[1]), -len(row[2]), sort_key(row[0].label)))
    return {"topic": topic, "departments": rows, "people": people}


@router.get("/search")
def search_page(
    request: Request, q: str = "", type: str = "", goal: str = "", department: str = "", sdg_code: str = ""
) -> HTMLResponse:
    """Search (api.search), results grouped by type; and "Wer arbeitet an Ziel …?" (`?sdg_code=11.2`)."""
    page = page_for(request)
    labels = Labels(page)
    q = q[:200]
    type_ = type if type in SEARCH_TYPES else ""
    goal_n = _goal_param(goal)
    dept_options = departments(page, labels)
    dept = department if department in {d.iri for d in dept_options} else ""
    hits: list[Hit] = []
    total, matched, complete, error = 0, "all", True, None
    if q.strip():
        try:
            hits, total, matched, complete = run_search(page, labels, q, type_=type_, goal=goal_n, department=dept)
        except SearchInputError as problem:
            error = str(problem)
    groups = [(t, [h for h in hits if h.type == t]) for t in SEARCH_TYPES]
    groups = [(t, h) for t, h in groups if h]
    # A question ("Wer arbeitet an 11.2?") is answered for its topic; a topic that names an SDG goal or
    # target ("11.2", "Ziel 13") by who works on it, any other by the departments behind the projects and
    # datasets found. The answer comes before the list of hits: it is what the question asked for.
    topic = (question_topic(q) or q).strip()
    code = sdg_code.strip()[:40] or (topic if topic and sdg().resolve(topic) else "")
    who, who_error, who_unavailable, topic_answer = None, False, False, None
    if code:
        try:
            who = who_works_on(page, labels, code)
            who_error = who is None
        except Unavailable:
            who_unavailable = True
    elif topic and any(h.departments for h in hits if h.type in ("project", "dataset")):
        try:
            topic_answer = who_works_on_topic(page, labels, topic, hits)
        except Unavailable:
            who_unavailable = True
    return render(
        page,
        "search.html",
        {
            "title": page.t("search.title"),
            "nav": "search",
            "q": q,
            "type": type_,
            "goal": goal_n,
            "department": dept,
            "departments": dept_options,
            "goals": [labels.ref(g) for g in sdg().goals()],
            "groups": groups,
            "searched": bool(q.strip()),
            "total": total,
            "matched": matched,
            "complete": complete,
            "error": error,
            "sdg_code": code,
            "who": who,
            "who_error": who_error,
            "who_unavailable": who_unavailable,
            "topic_answer": topic_answer,
            "question": question_topic(q) is not None,
            "suggest_url": "/api/search/suggest",
            "base_iri": request.app.state.settings.base_iri,
            "search_types": SEARCH_TYPES,
            "type_labels": {ty: page.t(f"type.{ty}.plural") for ty in SEARCH_TYPES},
        },
    )


# -- the open-data catalog for people --------------------------------------------------------------------
# /catalog answers browsers with this page and everything else with RDF (api/publishing.py). It shows the
# same page of the same DCAT-AP.de document a harvester gets, so what staff read is what portals get.

_CATALOG_FORMATS = (
    ("ttl", "Turtle", "text/turtle"),
    ("rdf", "RDF/XML", "application/rdf+xml"),
    ("jsonld", "JSON-LD", "application/ld+json"),
    ("nt", "N-Triples", "application/n-triples"),
)


@dataclass
class CatalogEntry:
    dataset: Ref
    description: str
    departments: list[Ref]
    sdg: list[Ref]
    modified: str
    distributions: list[Value]  # format code, linked to the download (or access) URL
    licenses: list[Value]


def catalog_page(request: Request, number: int) -> HTMLResponse:
    """The catalog as a page for people: one page of datasets with their departments, formats and licences,
    links to the RDF documents of this page and of the whole catalog."""
    from api.catalog import PageNotFound, build_catalog, published_datasets

    page = page_for(request)
    settings, store = request.app.state.settings, request.app.state.store
    try:
        document = build_catalog(store, settings, page=number, datasets=published_datasets(store, settings))
    except PageNotFound:
        return not_found(page)
    about: dict[Any, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for triple in document.triples:
        about[triple.subject][triple.predicate.value].append(triple.object)
    labels = Labels(page)
    labels.prefetch(o.value for d in document.datasets for o in about[d][DCT.creator.value])
    entries = []
    for dataset in document.datasets:
        facts = about[dataset]
        for literal in (o for o in facts[DCT["title"].value] if isinstance(o, Literal)):
            labels.cache.setdefault(dataset.value, literal.value)
        distributions, licenses = [], []
        for distribution in facts[DCAT.distribution.value]:
            parts = about[distribution]
            url = next((o.value for key in ("downloadURL", "accessURL") for o in parts[DCAT[key].value]), None)
            for fmt in parts[DCT["format"].value] or [None]:
                distributions.append(Value(_vocabulary_code(fmt.value) if fmt else "?", url))
            licenses += [Value(_vocabulary_code(o.value), o.value) for o in parts[DCT["license"].value]]
        modified = [o for o in facts[DCT.modified.value] if isinstance(o, Literal)]
        description = _pick_language([o for o in facts[DCT.description.value] if isinstance(o, Literal)], page.lang)
        entries.append(
            CatalogEntry(
                dataset=labels.ref(dataset),
                description=description or "",
                departments=sorted((labels.ref(o) for o in facts[DCT.creator.value]), key=lambda r: sort_key(r.label)),
                sdg=sorted(
                    (labels.ref(o) for o in facts[DCT.subject.value] if _is_sdg(o.value)),
                    key=lambda r: _code_key(r.code or ""),
                ),
                modified=str(_literal(modified[0], page.lang)) if modified else "",
                distributions=sorted(set(distributions), key=lambda v: v.text),
                licenses=sorted(set(licenses), key=lambda v: v.text),
            )
        )
    which = f"?page={document.page}"
    return render(
        page,
        "catalog.html",
        {
            "title": settings.catalog_title or page.t("catalog.title", municipality=settings.municipality_name),
            "nav": "catalog",
            "entries": entries,
            "total": document.total,
            "first": (document.page - 1) * settings.catalog_page_size + 1,
            "page_number": document.page,
            "pages": document.last,
            "page_url": lambda n: f"/catalog?page={n}",
            "this_page": [(name, f"/catalog.{s}{which}", media) for s, name, media in _CATALOG_FORMATS],
            "whole": [(name, f"/catalog.{s}?full=1", media) for s, name, media in _CATALOG_FORMATS],
        },
    )


# -- entity pages ----------------------------------------------------------------------------------
# On disk, Oxigraph joins triple patterns by one index lookup per row (and per graph of the dataset), and
# a value bound by `substitutions=` is only bound after the query is planned, so the planner cannot start
# from it (a department's datasets: 570 ms at 10^6 triples; 1 ms with the IRI in the query). The page's
# queries therefore name the entity in their text ($s, written by pyoxigraph's own serialisation), the
# relations of the gap reports are asked for this one entity instead of filtering the whole report, labels
# are looked up in one query per page (Labels.prefetch), and a list of more than SHOWN entries is paged:
# the page says how many there are and shows SHOWN of them in IRI order, since ordering thousands by name
# would cost a label lookup each.

SHOWN = 50

_QD = _Q + f"PREFIX qsd: <{DERIVED_NS}>\n"
_OUT = "SELECT ?p ?o WHERE { $s ?p ?o }"
_ASSOCIATIONS = (
    _Q + "SELECT ?agent ?role WHERE { $s prov:qualifiedAssociation ?a . ?a prov:agent ?agent ; prov:hadRole ?role }"
)
_DEPT_PROJECTS = (
    _Q
    + """SELECT ?project ?role ?sdg WHERE {
  ?project prov:wasAssociatedWith $s ; a qs:Project .
  OPTIONAL { ?project prov:qualifiedAssociation ?a . ?a prov:agent $s ; prov:hadRole ?role }
  OPTIONAL { ?project qs:contributesTo ?sdg }
}"""
)
_DEPT_DATASETS = (
    _Q
    + "SELECT ?dataset WHERE { ?dataset dct:creator $s . { ?dataset a dcat:Dataset } UNION { ?dataset a qs:Indicator } }"
)
_CHILDREN = _Q + "SELECT ?x WHERE { ?x org:subOrganizationOf $s }"
_DEPT_MEMBERS = (
    _Q
    + """SELECT ?person ?role WHERE {
  ?person org:memberOf $s .
  OPTIONAL { ?membership org:member ?person ; org:organization $s ; org:role ?role }
}"""
)
# The gap reports' relations for one entity (queries/missing-bridges.rq and unused-datasets.rq ask the
# same of every entity): over the derived relations (api/derived.py), targets typed sdgo:Target.
_TARGETS = "{ SELECT DISTINCT ?target WHERE { ?target a sdgo:Target } }"
# One row per (other, target): derived facts are stored once (api/derived.py) and the targets are distinct.
_BRIDGES = (
    _QD
    + f"""SELECT ?other (COUNT(?target) AS ?shared) WHERE {{
  $s qsd:worksOnTarget ?target . {_TARGETS}
  ?other qsd:worksOnTarget ?target .
  MINUS {{ $s qsd:sharesProjectWith ?other }}
}} GROUP BY ?other"""
)
_BRIDGE_TARGETS = (
    _QD
    + f"""SELECT ?other ?target WHERE {{
  {{ SELECT ?target WHERE {{ $s qsd:worksOnTarget ?target }} }}
  {{ SELECT ?other ?target WHERE {{ $other ?other qsd:worksOnTarget ?target }} }}
  {_TARGETS}
}}"""
)
_COULD_USE = (
    _QD
    + f"""SELECT DISTINCT ?dataset ?target WHERE {{
  $s qsd:target ?target . {_TARGETS}
  {{ ?dataset dct:subject ?target }} UNION {{ ?target skos:broader ?goal . ?dataset dct:subject ?goal }}
  ?dataset a dcat:Dataset .
  MINUS {{ $s prov:used ?dataset }}
  MINUS {{ ?dataset dct:creator ?creator . $s qsd:member ?creator }}
}}"""
)
_COULD_SERVE = (
    _QD
    + f"""SELECT DISTINCT ?project ?target WHERE {{
  $s a dcat:Dataset .
  {{ $s dct:subject ?target }} UNION {{ $s dct:subject ?goal . ?target skos:broader ?goal }}
  {_TARGETS}
  ?project qsd:target ?target .
  MINUS {{ ?project prov:used $s }}
  MINUS {{ $s dct:creator ?creator . ?project qsd:member ?creator }}
}}"""
)
_USERS = _Q + "SELECT ?x WHERE { ?x prov:used $s }"
_DISTRIBUTIONS = _Q + "SELECT ?distribution ?p ?o WHERE { $s dcat:distribution ?distribution . ?distribution ?p ?o }"
_PERSON_MEMBERSHIPS = (
    _Q
    + """SELECT ?department ?role WHERE {
  { $s org:memberOf ?department } UNION { ?m org:member $s ; org:organization ?department ; org:role ?role }
}"""
)
_CONTACT_FOR = _Q + "SELECT ?x WHERE { ?x qs:contactPerson $s }"
# The parts of a hub's queries are sub-selects, each evaluated once and joined by hashing (a goal's
# projects: 60 ms instead of 3.5 s when the planner starts from every project). Lists come as DISTINCT
# IRIs and are ordered here: ORDER BY compares decoded strings and took 0.4 s for a goal's projects.
_SDG_PROJECT_PAIRS = """{ SELECT ?project ?via WHERE {
      { ?project qs:contributesTo $s BIND($s AS ?via) } UNION { ?via skos:broader $s . ?project qs:contributesTo ?via }
  } }
  ?project a qs:Project ."""
_SDG_PROJECTS = _Q + f"SELECT DISTINCT ?project WHERE {{ {_SDG_PROJECT_PAIRS} }}"
_SDG_TARGET_COUNTS = (
    _Q + f"SELECT ?via (COUNT(DISTINCT ?project) AS ?projects) WHERE {{ {_SDG_PROJECT_PAIRS} }} GROUP BY ?via"
)
_SDG_DATA = (
    _Q
    + """SELECT ?x ?type WHERE {
  { SELECT ?x WHERE { ?x dct:subject $s } }
  { SELECT ?x ("dataset" AS ?type) WHERE { ?x a dcat:Dataset } }
  UNION { SELECT ?x ("indicator" AS ?type) WHERE { ?x a qs:Indicator } }
}"""
)
# queries/who-works-on.rq for one goal or target: departments lead or partner of a project on it. For a
# target that is exactly qsd:worksOnTarget (api/derived.py: member of a project whose qsd:target it is),
# one pattern instead of a join of thousands of rows.
_WHO_PROJECTS = "{ SELECT ?project WHERE { { ?project qsd:target $s } UNION { ?project qsd:goal $s } } }"
_WHO_OF_TARGET = _QD + "SELECT ?department WHERE { ?department qsd:worksOnTarget $s }"
_WHO_OF_GOAL = (
    _QD
    + f"""SELECT DISTINCT ?department WHERE {{
  {_WHO_PROJECTS}
  {{ SELECT ?project ?department WHERE {{ ?project qsd:member ?department }} }}
}}"""
)
_WHO_PAIRS = (
    _QD + f"SELECT ?department ?project WHERE {{ $department {_WHO_PROJECTS} ?project qsd:member ?department }}"
)
_TERM = re.compile(r"\$(\w+)")

# Predicates shown under their own heading on the entity pages, in this order.
_FACTS: dict[str, tuple[str, ...]] = {
    "department": (
        FOAF.name.value,
        ORG.subOrganizationOf.value,
        ORG.unitOf.value,
        FOAF.mbox.value,
        FOAF.homepage.value,
        ORG.identifier.value,
    ),
    "project": (
        DCT.description.value,
        QS.status.value,
        PROV.startedAtTime.value,
        PROV.endedAtTime.value,
        FOAF.homepage.value,
        QS.contactPerson.value,
        QS.implements.value,
        DCT.identifier.value,
    ),
    "dataset": (
        DCT.description.value,
        DCT.creator.value,
        DCT.publisher.value,
        DCT.modified.value,
        DCT.accrualPeriodicity.value,
        DCAT.theme.value,
        DCAT.keyword.value,
        DCT.identifier.value,
    ),
    "person": (FOAF.name.value, FOAF.mbox.value, FOAF.phone.value),
}


@dataclass
class Section:
    """A titled list of links or a table on an entity page; `total` is set when `items` is one page of more."""

    key: str
    heading: str
    items: list[Any] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    note: str = ""
    total: int | None = None
    first: int = 1
    page_number: int = 1
    pages: int = 1
    prev_url: str | None = None
    next_url: str | None = None


def _about(page: Page, sparql: str, **terms: NamedNode | list[NamedNode]) -> list[dict[str, Any]]:
    """Rows of an entity page query over the caller's graphs, `$name` replaced by its term, or by
    `VALUES ?name { … }` for a list of terms."""
    return _rows(page, _written(sparql, terms))


def _written(sparql: str, terms: dict[str, NamedNode | list[NamedNode]]) -> str:
    # Terms are written by pyoxigraph's own serialisation (`<iri>`), which no value can break out of.
    def term(match: re.Match) -> str:
        value = terms[match[1]]
        if isinstance(value, NamedNode):
            return str(value)
        return f"VALUES ?{match[1]} {{ {' '.join(map(str, value))} }}"

    return _TERM.sub(term, sparql)


def _iris(page: Page, sparql: str, **terms: NamedNode | list[NamedNode]) -> list[str]:
    """The IRIs of the one variable an entity page query selects (without a dict per row: lists are long)."""
    result = page.request.app.state.store.query(_written(sparql, terms), include_internal=page.staff, base_iri=None)
    return [row[0].value for row in result if isinstance(row[0], NamedNode)]


def _paged(page: Page, key: str, items: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """The page of `items` that `?{key}=N` asks for (SHOWN each), and the Section fields describing it."""
    if len(items) <= SHOWN:
        return items, {}
    pages = math.ceil(len(items) / SHOWN)
    number = min(max(_int(page.request.query_params.get(key), 1), 1), pages)
    url = page.request.url

    def link(n: int) -> str:
        target = url.include_query_params(**{key: n})
        return f"{target.path}?{target.query}#section-{key}"

    return items[(number - 1) * SHOWN : number * SHOWN], {
        "total": len(items),
        "first": (number - 1) * SHOWN + 1,
        "page_number": number,
        "pages": pages,
        "prev_url": link(number - 1) if number > 1 else None,
        "next_url": link(number + 1) if number < pages else None,
    }


def _long_order(iri: str) -> tuple:
    """Order of a paged list: SDG codes by number, everything else by IRI (no label needed)."""
    code = sdg().notation(iri) if iri.startswith(str(SDG)) and _is_sdg(iri) else None
    return (_code_key(code) if code else (), iri)


def _entity_iri(request: Request, path: str) -> str | None:
    if not _PATH.match(path):
        return None
    kind, _, rest = path.partition("/")
    if kind == "sdg":
        concept = sdg().resolve(rest) if rest else None
        return concept.value if concept is not None else None
    if kind not in PAGE_KINDS or not rest:
        return None
    return request.app.state.settings.base_iri + path


def _data_links(path: str | None, iri: str) -> list[tuple[str, str, str]]:
    """(label, media type, href) of the entity's data: `/id/…` for own IRIs, a SPARQL DESCRIBE for others
    (SDG concepts, and harvested datasets, whose `path` is None)."""
    if path is None or path.startswith("sdg/"):
        query = f"DESCRIBE {NamedNode(iri)}"
        return [
            ("Turtle", "text/turtle", "/sparql?" + urlencode({"query": query, "format": "turtle"})),
            ("JSON-LD", "application/ld+json", "/sparql?" + urlencode({"query": query, "format": "jsonld"})),
        ]
    target = "/id/" + quote(path, safe="/")
    return [
        ("Turtle", "text/turtle", f"{target}?format=turtle"),
        ("JSON-LD", "application/ld+json", f"{target}?format=jsonld"),
    ]


# Registered before `/page/{path:path}`, which would take `/page/dataset` for itself.
@router.get(harvested_pages.PAGE)
def harvested_dataset_page(request: Request, iri: str = "") -> Response:
    """A dataset harvested under its portal's own IRI (`?iri=`): the page a spreadsheet dataset has."""
    page = page_for(request)
    own = page_path(request, iri)
    if own is not None and own.startswith("dataset/"):
        return RedirectResponse("/page/" + quote(own, safe="/"), status_code=303)
    # Anything else, and a dataset only internal graphs hold when the caller is anonymous: the same 404.
    if iri not in harvested_pages.dataset_iris(request.app, page.principal):
        return not_found(page)
    return _entity_response(request, page, iri, "dataset", None)


@router.get("/page/{path:path}")
def entity_page(request: Request, path: str) -> Response:
    """An entity: what it is, its facts and links, and its data as Turtle/JSON-LD (also by Accept: 303 to /id/)."""
    page = page_for(request)
    iri = _entity_iri(request, path)
    kind = path.split("/", 1)[0]
    if iri is None or (kind == "person" and not page.staff):
        # People are internal: anonymous callers get the same 404 as for an unknown IRI.
        return not_found(page)
    return _entity_response(request, page, iri, kind, path)


def _entity_response(request: Request, page: Page, iri: str, kind: str, path: str | None) -> Response:
    """The page of entity `iri` of `kind` (or a 303 to its data); `path` under `/page/`, None for a harvested dataset."""
    offer = negotiate_optional(request.headers.get("accept"), (HTML_OFFER, _TURTLE, _JSONLD))
    if offer is not None and offer is not HTML_OFFER and "text/html" not in (request.headers.get("accept") or ""):
        href = dict((m, h) for _, m, h in _data_links(path, iri)).get(offer.media_type)
        return RedirectResponse(href or "/", status_code=303, headers={"Vary": "Accept"})
    labels = Labels(page)
    outgoing = _about(page, _OUT, s=NamedNode(iri))
    if not outgoing and kind != "sdg":
        return not_found(page)
    values: dict[str, list[Any]] = defaultdict(list)
    for row in outgoing:
        values[row["p"].value].append(row["o"])
    labels.learn(iri, values)
    labels.prefetch(o.value for os in values.values() for o in os if isinstance(o, NamedNode))
    self_ref = labels.ref(iri)
    sections = build_sections(page, labels, kind, iri, values)
    facts = []
    for predicate in _FACTS.get(kind, ()):
        if predicate in values:
            shown = [show(labels, o) for o in values[predicate]]
            facts.append((page.t(f"pred.{_short_iri(predicate)}"), sorted(shown, key=lambda v: sort_key(str(v)))))
    all_values = sorted(
        (
            (_predicate_label(page, p), sorted((show(labels, o) for o in os), key=_display_order))
            for p, os in values.items()
            # Qualified associations are helper nodes (the departments table shows their roles); derived
            # relations (api/derived.py) repeat the source data for the gap queries.
            if p != PROV.qualifiedAssociation.value and not p.startswith(DERIVED_NS)
        ),
        key=lambda pair: sort_key(pair[0]),
    )
    kind_label = sdg().kind(iri) if kind == "sdg" else "indicator_local" if kind == "indicator" else kind
    # Imported here: api.review builds on this module's pages and helpers.
    from api.review import entity_suggestions

    proposals = entity_suggestions(request, page, labels, iri) if kind in ("project", "dataset", "indicator") else None
    return render(
        page,
        "entity.html",
        {
            "title": f"{self_ref.code} {self_ref.label}" if self_ref.code else self_ref.label,
            "entity": self_ref,
            "kind": kind_label,
            "iri": iri,
            "facts": facts,
            "sections": sections,
            "all_values": all_values,
            "proposals": proposals,
            "here_path": request.url.path if path is not None else harvested_pages.href(iri),
            "data_links": _data_links(path, iri),
            "alternate": [(m, "/id/" + quote(path, safe="/")) for m in ("text/turtle", "application/ld+json")]
            if path is not None and kind != "sdg"
            else [(m, h) for _, m, h in _data_links(path, iri)],
        },
    )


def not_found(page: Page) -> HTMLResponse:
    """The 404 page."""
    return render(page, "error.html", {"title": page.t("error.not_found"), "status": 404}, status=404)


def _display_order(value: Ref | Value) -> tuple:
    code = getattr(value, "code", None)
    return (_code_key(code) if code else (), sort_key(str(value)))


def _predicate_label(page: Page, predicate: str) -> str:
    key = f"pred.{_short_iri(predicate)}"
    text = page.t(key)
    return _short_iri(predicate) if text == key else text


def build_sections(page: Page, labels: Labels, kind: str, iri: str, values: dict[str, list[Any]]) -> list[Section]:
    """The kind-specific parts of an entity page."""
    builder = {
        "department": _department_sections,
        "project": _project_sections,
        "dataset": _dataset_sections,
        "person": _person_sections,
        "sdg": _sdg_sections,
    }.get(kind)
    return builder(page, labels, NamedNode(iri), values) if builder else []


def _refs(labels: Labels, iris: Any) -> list[Ref]:
    unique = {i.value if isinstance(i, NamedNode) else i for i in iris}
    labels.prefetch(unique)
    return sorted(
        (labels.ref(i) for i in unique), key=lambda r: (_code_key(r.code) if r.code else (), sort_key(r.label))
    )


def _link_section(page: Page, labels: Labels, key: str, heading: str, iris: Any) -> Section:
    """A list of links: all of them by label, or a page of a long list in IRI order, with the count."""
    unique = sorted({i.value if isinstance(i, NamedNode) else i for i in iris}, key=_long_order)
    if len(unique) <= SHOWN:
        return Section(key, heading, _refs(labels, unique))
    shown, paging = _paged(page, key, unique)
    labels.prefetch(shown)
    return Section(key, heading, [labels.ref(i) for i in shown], **paging)


def _unavailable(page: Page, *names: str) -> bool:
    """Whether a section that mirrors a gap report should say "not available": the report is not installed."""
    return any(name not in page.request.app.state.queries for name in names)


def _role_label(page: Page, role: Any) -> str:
    if isinstance(role, NamedNode) and role.value == QS.LeadRole.value:
        return page.t("role.lead")
    if isinstance(role, NamedNode) and role.value == QS.PartnerRole.value:
        return page.t("role.partner")
    return page.t("role.involved")


def _department_sections(page: Page, labels: Labels, iri: NamedNode, values: dict) -> list[Section]:
    projects: dict[str, dict[str, Any]] = {}
    for row in _about(page, _DEPT_PROJECTS, s=iri):
        entry = projects.setdefault(row["project"].value, {"role": None, "sdg": set()})
        if "role" in row:
            entry["role"] = row["role"]
        if isinstance(row.get("sdg"), NamedNode) and _is_sdg(row["sdg"].value):
            entry["sdg"].add(row["sdg"].value)
    ordered = sorted(projects, key=_long_order)
    shown, paging = _paged(page, "projects", ordered)
    labels.prefetch(shown)
    table = [
        [labels.ref(p), Value(_role_label(page, projects[p]["role"])), _refs(labels, projects[p]["sdg"])] for p in shown
    ]
    if not paging:
        table.sort(key=lambda r: sort_key(r[0].label))
    by_goal: dict[int, list[Ref]] = defaultdict(list)
    for p in shown:
        for goal in sorted({int(sdg().notation(sdg().goal_of(s))) for s in projects[p]["sdg"]}):
            by_goal[goal].append(labels.ref(p))
    goals = [
        (labels.ref(SDG[str(g)].value), sorted(refs, key=lambda r: sort_key(r.label)))
        for g, refs in sorted(by_goal.items())
    ]
    sections = [
        Section("projects", page.t("section.projects"), table, ["col.project", "col.role", "col.sdg"], **paging),
        # The projects of the page above, by goal (a paged table pages them too).
        Section("by-goal", page.t("section.by_goal"), goals),
    ]
    data = [r["dataset"] for r in _about(page, _DEPT_DATASETS, s=iri)]
    sections.append(_link_section(page, labels, "datasets", page.t("section.datasets_published"), data))
    children = [r["x"] for r in _about(page, _CHILDREN, s=iri)]
    if children:
        sections.append(_link_section(page, labels, "children", page.t("section.children"), children))
    sections.append(_bridges(page, labels, iri))
    if page.staff:
        rows = [(r["person"].value, r.get("role")) for r in _about(page, _DEPT_MEMBERS, s=iri)]
        rows.sort(key=lambda row: _long_order(row[0]))
        shown_rows, paging = _paged(page, "people", rows)
        labels.prefetch([p for p, _ in shown_rows] + [r.value for _, r in shown_rows if isinstance(r, NamedNode)])
        members = [
            [labels.ref(person), Value(labels.label(role.value) or "" if role is not None else "")]
            for person, role in shown_rows
        ]
        if not paging:
            members.sort(key=lambda r: sort_key(r[0].label))
        sections.append(Section("people", page.t("section.people"), members, ["col.person", "col.role"], **paging))
    return sections


def _bridges(page: Page, labels: Labels, iri: NamedNode) -> Section:
    """Departments sharing targets with this one but no project: most shared targets first."""
    heading = page.t("section.missing_bridges")
    if _unavailable(page, "missing-bridges"):
        return Section("bridges", heading, note="report.unavailable")
    shared = {r["other"].value: int(r["shared"].value) for r in _about(page, _BRIDGES, s=iri)}
    order = sorted(shared, key=lambda other: (-shared[other], other))
    shown, paging = _paged(page, "bridges", order)
    targets: dict[str, list[str]] = defaultdict(list)
    if shown:
        for row in _about(page, _BRIDGE_TARGETS, s=iri, other=[NamedNode(o) for o in shown]):
            targets[row["other"].value].append(row["target"].value)
    labels.prefetch(shown)
    items = [[labels.ref(other), _refs(labels, targets[other])] for other in shown]
    if not paging:
        items.sort(key=lambda item: (-shared[item[0].iri], sort_key(item[0].label)))
    return Section("bridges", heading, items, ["col.department", "col.shared_targets"], **paging)


def _project_sections(page: Page, labels: Labels, iri: NamedNode, values: dict) -> list[Section]:
    roles = {r["agent"].value: r["role"] for r in _about(page, _ASSOCIATIONS, s=iri)}
    departments = values.get(PROV.wasAssociatedWith.value, [])
    labels.prefetch(d.value for d in departments if isinstance(d, NamedNode))
    involved = [[labels.ref(d), Value(_role_label(page, roles.get(d.value)))] for d in departments]
    involved.sort(key=lambda r: (r[1].text != page.t("role.lead"), sort_key(r[0].label)))
    sections = [
        Section("departments", page.t("section.departments"), involved, ["col.department", "col.role"]),
        _link_section(page, labels, "sdg", page.t("section.sdg"), values.get(QS.contributesTo.value, [])),
        _link_section(page, labels, "used", page.t("section.datasets_used"), values.get(PROV.used.value, [])),
    ]
    sections.append(_unused_pairs(page, labels, iri, "unused", "could_use", _COULD_USE, "dataset"))
    return sections


def _unused_pairs(page: Page, labels: Labels, iri: NamedNode, key: str, text: str, query: str, other: str) -> Section:
    """The unused-datasets rows of one entity: the `other` entity (dataset or project) × target, paged."""
    heading = page.t(f"section.{text}")
    if _unavailable(page, "unused-datasets"):
        return Section(key, heading, note="report.unavailable")
    pairs = [(r[other].value, r["target"].value) for r in _about(page, query, s=iri)]
    pairs.sort(key=lambda pair: (pair[0], _long_order(pair[1])))
    shown, paging = _paged(page, key, pairs)
    labels.prefetch(entity for entity, _ in shown)
    items = [[labels.ref(entity), labels.ref(target)] for entity, target in shown]
    if not paging:
        items.sort(key=lambda r: (sort_key(r[0].label), _code_key(r[1].code or "")))
    return Section(key, heading, items, [f"col.{other}", "col.target"], f"section.{text}.note", **paging)


def _dataset_sections(page: Page, labels: Labels, iri: NamedNode, values: dict) -> list[Section]:
    users = [r["x"] for r in _about(page, _USERS, s=iri)]
    distributions: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for row in _about(page, _DISTRIBUTIONS, s=iri):
        distributions[row["distribution"].value][_short_iri(row["p"].value)].append(row["o"])
    dist_rows = []
    for props in distributions.values():
        dist_rows.append(
            [
                Value(", ".join(_vocabulary_code(f.value) for f in props.get("dct:format", [])) or "–"),
                Value(", ".join(_vocabulary_code(x.value) for x in props.get("dct:license", [])) or "–"),
                *[
                    Value(page.t(key), props[p][0].value) if props.get(p) else Value("–")
                    for key, p in (("dist.access", "dcat:accessURL"), ("dist.download", "dcat:downloadURL"))
                ],
            ]
        )
    subjects = values.get(DCT.subject.value, [])
    # Musterdatenkatalog categories wherever a portal puts them (DCAT-AP.de: dct:references; some use
    # dcat:theme or dct:subject), shown by their German label; an IRI the loaded taxonomy lacks by its last part.
    categories = {
        o.value
        for p in (DCT.references.value, DCAT.theme.value, DCT.subject.value)
        for o in values.get(p, [])
        if isinstance(o, NamedNode) and o.value.startswith(MUSTERDATENKATALOG_NS)
    }
    sections = [
        _link_section(page, labels, "sdg", page.t("section.sdg"), [o for o in subjects if o.value not in categories]),
        _link_section(page, labels, "categories", page.t("section.categories"), categories),
        _link_section(page, labels, "users", page.t("section.used_by"), users),
        Section(
            "distributions",
            page.t("section.distributions"),
            dist_rows,
            ["col.format", "col.license", "col.access", "col.download"],
        ),
    ]
    sections.append(_unused_pairs(page, labels, iri, "could-serve", "could_serve", _COULD_SERVE, "project"))
    return sections


def _person_sections(page: Page, labels: Labels, iri: NamedNode, values: dict) -> list[Section]:
    memberships: dict[str, Any] = {}
    for row in _about(page, _PERSON_MEMBERSHIPS, s=iri):
        department = row["department"].value
        if "role" in row or department not in memberships:
            memberships[department] = row.get("role") or memberships.get(department)
    labels.prefetch([*memberships, *(r.value for r in memberships.values() if isinstance(r, NamedNode))])
    items = [
        [labels.ref(d), Value(labels.label(r.value) or "" if isinstance(r, NamedNode) else "")]
        for d, r in memberships.items()
    ]
    contact = [r["x"] for r in _about(page, _CONTACT_FOR, s=iri)]
    return [
        Section("departments", page.t("section.memberships"), items, ["col.department", "col.role"]),
        _link_section(page, labels, "contact", page.t("section.contact_for"), contact),
    ]


def _sdg_sections(page: Page, labels: Labels, iri: NamedNode, values: dict) -> list[Section]:
    index = sdg()
    sections = []
    definitions = [o for o in values.get(SKOS.definition.value, []) if isinstance(o, Literal)]
    definition = _pick_language(definitions, page.lang)
    if index.kind(iri.value) == "goal":
        counts = {r["via"].value: int(r["projects"].value) for r in _about(page, _SDG_TARGET_COUNTS, s=iri)}
        targets = [
            [labels.ref(t), Value(format_number(counts.get(t.value, 0), page.lang))] for t in index.targets(iri.value)
        ]
        sections.append(Section("targets", page.t("section.targets"), targets, ["col.target", "col.projects"]))
    else:
        sections.append(Section("goal", page.t("section.goal"), [labels.ref(index.goal_of(iri.value))]))
    projects = _iris(page, _SDG_PROJECTS, s=iri)
    sections.append(_link_section(page, labels, "projects", page.t("section.projects"), projects))
    data = _about(page, _SDG_DATA, s=iri)
    datasets = [r["x"] for r in data if r["type"].value == "dataset"]
    sections.append(_link_section(page, labels, "datasets", page.t("section.datasets"), datasets))
    indicators = [r["x"] for r in data if r["type"].value == "indicator"]
    if indicators:
        sections.append(_link_section(page, labels, "indicators", page.t("section.indicators"), indicators))
    sections.append(_who(page, labels, iri))
    if definition:
        sections.insert(0, Section("definition", page.t("section.definition"), [Value(definition)]))
    return sections


def _who(page: Page, labels: Labels, iri: NamedNode) -> Section:
    """Departments lead or partner of a project on this goal or target, each with those projects."""
    heading = page.t("section.who")
    if _unavailable(page, "who-works-on"):
        return Section("who", heading, note="report.unavailable")
    query = _WHO_OF_GOAL if sdg().kind(iri.value) == "goal" else _WHO_OF_TARGET
    shown, paging = _paged(page, "who", sorted(set(_iris(page, query, s=iri))))
    by_department: dict[str, set[str]] = defaultdict(set)
    if shown:
        for row in _about(page, _WHO_PAIRS, s=iri, department=[NamedNode(d) for d in shown]):
            if isinstance(row.get("project"), NamedNode):
                by_department[row["department"].value].add(row["project"].value)
    labels.prefetch([*shown, *(p for d in shown for p in by_department[d])])
    items = [
        [labels.ref(d), sorted((labels.ref(p) for p in by_department[d]), key=lambda r: sort_key(r.label))]
        for d in shown
    ]
    if not paging:
        items.sort(key=lambda item: sort_key(item[0].label))
    return Section("who", heading, items, ["col.department", "col.projects"], **paging)
