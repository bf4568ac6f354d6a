"""Named SPARQL queries: one `queries/*.rq` file each, with a `#+` YAML header (grlc style).

The file stem is the query's name and URL slug. Parameters are typed in the header, turned into pyoxigraph
terms here and bound by api/sparql_binding.py (each term as pyoxigraph writes it, in place of the variable,
SEP-0007), never formatted into the text. Every file is parse-checked when the
registry is built, so a broken query fails start-up naming its file and line.
An optional `title` in the header maps languages (`de`, `en`) to a short title (YASGUI tab names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pyoxigraph import Literal, NamedNode, QueryBoolean, Store, Variable

from loaders.resources import QUERIES_DIR
from loaders.vocab import XSD

PARAM_TYPES = ("iri", "sdg", "string", "integer", "decimal", "boolean")


class NamedQueryError(Exception):
    """A `.rq` file is malformed; the message names the file and the line."""


class ParameterError(ValueError):
    """A parameter value does not fit its declared type; the message names the parameter."""

    def __init__(self, name: str, message: str):
        self.name = name
        super().__init__(f"parameter {name!r}: {message}")


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "string"
    description: str = ""
    default: str | None = None
    example: str | None = None
    required: bool = False


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    sparql: str
    summary: str = ""
    description: dict[str, str] = field(default_factory=dict)
    # A short title per language (`de`, `en`): the example queries have one, for YASGUI tabs and lists.
    title: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def bind(self, values: dict[str, str]) -> dict[str, NamedNode | Literal]:
        """Turn raw parameter strings into RDF terms for substitution; unknown names are refused."""
        known = {p.name: p for p in self.parameters}
        for name in values:
            if name not in known:
                raise ParameterError(name, f"unknown parameter of query {self.name!r}")
        bound: dict[str, NamedNode | Literal] = {}
        for param in self.parameters:
            raw = values.get(param.name, param.default)
            if raw is None or raw == "":
                if param.required:
                    raise ParameterError(param.name, "is required")
                continue
            bound[param.name] = _term(param, raw)
        return bound


def _term(param: Parameter, raw: str) -> NamedNode | Literal:
    if param.type == "iri":
        if not re.match(r"^[a-z][a-z0-9+.-]*:[^\s<>\"{}|\\^`]*$", raw, re.IGNORECASE):
            raise ParameterError(param.name, f"{raw!r} is not an IRI")
        return NamedNode(raw)
    if param.type == "sdg":
        from loaders.sdg import SdgIndex

        iri = SdgIndex.builtin().resolve(raw)
        if iri is None:
            raise ParameterError(param.name, f"{raw!r} is not an SDG goal, target or indicator")
        return iri
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw):
            raise ParameterError(param.name, f"{raw!r} is not an integer")
        return Literal(raw, datatype=XSD.integer)
    if param.type == "decimal":
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
            raise ParameterError(param.name, f"{raw!r} is not a decimal number")
        return Literal(raw, datatype=XSD.decimal)
    if param.type == "boolean":
        if raw not in ("true", "false"):
            raise ParameterError(param.name, f"{raw!r} is not true or false")
        return Literal(raw, datatype=XSD.boolean)
    return Literal(raw)


def parse_query_file(path: Path) -> NamedQuery:
    """Read one `.rq` file: the leading `#+ ` lines are YAML, the rest is SPARQL."""
    text = path.read_text(encoding="utf-8")
    header_lines = []
    for line in text.splitlines():
        if line.startswith("#+"):
            header_lines.append(line[3:] if line.startswith("#+ ") else line[2:])
        elif line.strip():
            break
    try:
        header = yaml.safe_load("\n".join(header_lines)) or {}
    except yaml.YAMLError as error:
        raise NamedQueryError(f"{path}: bad #+ header: {error}") from None
    if not isinstance(header, dict):
        raise NamedQueryError(f"{path}: the #+ header must be a YAML mapping")
    params = []
    for name, spec in (header.pop("params", None) or {}).items():
        spec = spec or {}
        if spec.get("type", "string") not in PARAM_TYPES:
            raise NamedQueryError(f"{path}: parameter {name}: type must be one of {', '.join(PARAM_TYPES)}")
        params.append(
            Parameter(
                name=name,
                type=spec.get("type", "string"),
                description=spec.get("description", ""),
                default=None if spec.get("default") is None else str(spec["default"]),
                example=None if spec.get("example") is None else str(spec["example"]),
                required=bool(spec.get("required", False)),
            )
        )
    description = header.pop("description", {})
    if isinstance(description, str):
        description = {"en": description}
    title = header.pop("title", {}) or {}
    if not isinstance(title, dict) or not all(isinstance(t, str) for t in title.values()):
        raise NamedQueryError(f"{path}: title must map languages (de, en) to text")
    query = NamedQuery(
        name=path.stem,
        path=path,
        sparql=text,
        summary=header.pop("summary", ""),
        description=description,
        title=title,
        tags=tuple(header.pop("tags", ()) or ()),
        parameters=tuple(params),
        extra=header,
    )
    _check_syntax(query)
    return query


def _check_syntax(query: NamedQuery) -> None:
    # An empty store parses the query and evaluates it instantly; binding every parameter also proves
    # each one is substitutable (pyoxigraph substitutes only projected variables, SEP-0007).
    substitutions = {Variable(p.name): Literal("") for p in query.parameters}
    try:
        result = Store().query(query.sparql, substitutions=substitutions or None)
        if not isinstance(result, QueryBoolean):
            list(result)
    except SyntaxError as error:
        raise NamedQueryError(f"{query.path}: {error}") from None
    except RuntimeError as error:
        raise NamedQueryError(f"{query.path}: {error}") from None


class QueryRegistry:
    """All named queries of a directory, checked once."""

    def __init__(self, directory: Path = QUERIES_DIR):
        self.directory = directory
        self.queries = {q.name: q for q in (parse_query_file(p) for p in sorted(directory.glob("*.rq")))}

    def __contains__(self, name: str) -> bool:
        return name in self.queries

    def __getitem__(self, name: str) -> NamedQuery:
        return self.queries[name]

    def __iter__(self):
        return iter(self.queries.values())
