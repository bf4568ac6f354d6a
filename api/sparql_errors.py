"""SPARQL syntax errors a person can act on.

The parser says where it stopped and what it expected there ("error at 1:30: expected one of Prefix not
found, ['%'], ['-' | '0' ..= '9' | …]"), which names the place but rarely the mistake. `explain` keeps the
place (line and column, with the line and a caret under it) and adds the likely cause where one is
recognisable: an undeclared prefix (with the declaration to add, for the prefixes the service knows), a
misspelt keyword, an unclosed brace. The parser's own expectation list follows, shortened.
"""

from __future__ import annotations

import difflib
import re

from loaders.vocab import PREFIXES

# Prefixes people use without declaring them: the service's own and a few common ones (prefix.cc).
KNOWN_PREFIXES = {
    **PREFIXES,
    "hydra": "http://www.w3.org/ns/hydra/core#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "wd": "http://www.wikidata.org/entity/",
    "qsd": "https://w3id.org/querschnitt/derived#",
}
KEYWORDS = (
    "SELECT", "CONSTRUCT", "DESCRIBE", "ASK", "WHERE", "PREFIX", "BASE", "DISTINCT", "REDUCED", "FROM", "NAMED",
    "OPTIONAL", "UNION", "MINUS", "FILTER", "BIND", "VALUES", "GRAPH", "SERVICE", "GROUP", "ORDER", "BY", "HAVING",
    "LIMIT", "OFFSET", "ASC", "DESC", "AS", "NOT", "EXISTS", "IN", "COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE",
    "GROUP_CONCAT", "SEPARATOR", "INSERT", "DELETE", "DATA", "WITH", "USING", "CLEAR", "DROP", "CREATE", "LOAD",
    "LANG", "LANGMATCHES", "STR", "REGEX", "CONTAINS", "STRSTARTS", "LCASE", "UCASE", "COALESCE", "IF", "BOUND",
)  # fmt: skip
_POSITION = re.compile(r"error at (\d+):(\d+):\s*")
_DECLARED = re.compile(r"\bPREFIX\s+([A-Za-z][\w.-]*)?\s*:", re.IGNORECASE)
# A prefixed name whose prefix is the part before `:` (SPARQL 1.1 §19.8 PNAME_NS), where the parser stopped.
_PNAME_BEFORE = re.compile(r"(?<![\w<?$:])([A-Za-z][\w-]*(?:\.[\w-]+)*)?:[\w.%-]*$")
_PNAME = re.compile(r"(?<![\w<?$:#/])([A-Za-z][\w-]*(?:\.[\w-]+)*):(?=[\w%])")
# Bare words (not variables, prefixed names or numbers): where a misspelt keyword would be.
_WORDS = re.compile(r"(?<![\w?$:])([A-Za-z_]+)(?![\w:])")
_STRINGS_AND_IRIS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
MAX_EXPECTED = 12
_ITEM = re.compile(r'"[^"]*"|\[[^\]]*\]|[^,\s][^,]*')


def explain(sparql: str, message: str) -> str:
    """The parser's `message` for `sparql`, as a person can act on it: position, likely cause, the line.

    >>> print(explain("SELECT * WHERE { ?s foaf:name ?o }", "error at 1:30: expected one of Prefix not found"))
    SPARQL syntax error at line 1, column 30: the prefix "foaf:" is not declared. Add this line before the query:
    PREFIX foaf: <http://xmlns.com/foaf/0.1/>
    <BLANKLINE>
      1 | SELECT * WHERE { ?s foaf:name ?o }
        |                              ^
    Parser (1:30): expected one of Prefix not found
    """
    match = _POSITION.match(message)
    if match is None:
        return f"SPARQL syntax error: {message}"
    line_no, column = int(match[1]), int(match[2])
    expected = _shorten(message[match.end() :])
    lines = sparql.split("\n")
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    cause = _cause(sparql, line[: max(column - 1, 0)], expected)
    head = f"SPARQL syntax error at line {line_no}, column {column}" + (f": {cause}" if cause else ".")
    caret = f"  {line_no} | {line}\n  {' ' * len(str(line_no))} | {' ' * max(column - 1, 0)}^"
    return f"{head}\n\n{caret}\nParser ({line_no}:{column}): {expected}"


def undeclared_prefixes(sparql: str) -> list[str]:
    """Prefixes that `sparql` uses in prefixed names but does not declare, in order of first use."""
    text = _STRINGS_AND_IRIS.sub(" ", sparql)
    declared = {(m[1] or "") for m in _DECLARED.finditer(text)}
    used = [m[1] for m in _PNAME.finditer(_DECLARED.sub(" ", text))]
    return [p for p in dict.fromkeys(used) if p not in declared]


def _cause(sparql: str, before: str, expected: str) -> str:
    missing = undeclared_prefixes(sparql)
    if missing:
        # Where the parser stopped on a prefixed name, that one; else the first one used (an undeclared prefix
        # may make the parser stop further on).
        pname = _PNAME_BEFORE.search(before)
        prefix = pname[1] if pname is not None and pname[1] in missing else missing[0]
        known = KNOWN_PREFIXES.get(prefix)
        if known:
            return (
                f'the prefix "{prefix}:" is not declared. Add this line before the query:\nPREFIX {prefix}: <{known}>'
            )
        return f'the prefix "{prefix}:" is not declared. Declare it before the query: PREFIX {prefix}: <…>'
    words = _WORDS.findall(_STRINGS_AND_IRIS.sub(" ", before))
    for word in reversed(words[-3:]):
        if word.upper() not in KEYWORDS:
            close = difflib.get_close_matches(word.upper(), KEYWORDS, n=1, cutoff=0.75)
            if close:
                return f'"{word}" is not a SPARQL keyword; did you mean {close[0]}?'
    text = _STRINGS_AND_IRIS.sub(" ", sparql)
    if text.count("{") > text.count("}"):
        return 'a "{" is not closed: every group pattern needs its "}".'
    if text.count("(") > text.count(")"):
        return 'a "(" is not closed.'
    return ""


def _shorten(expected: str) -> str:
    """The parser's expectation list without its character-class ranges, at most MAX_EXPECTED entries."""
    expected = " ".join(expected.split())
    if not expected.startswith("expected one of "):
        return expected
    items = [i.strip() for i in _ITEM.findall(expected.removeprefix("expected one of "))]
    readable = [item for item in items if item and "..=" not in item and "\\u{" not in item]
    more = len(items) - len(readable[:MAX_EXPECTED])
    shown = ", ".join(readable[:MAX_EXPECTED])
    return f"expected one of {shown}" + (f" (and {more} more)" if more > 0 else "")
