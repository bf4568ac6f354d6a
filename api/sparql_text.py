"""Lexical facts about SPARQL text that the protocol needs before evaluation (SPARQL 1.1 Query §19.8).

A tokenizer, not a parser: it finds the query form, the dataset clauses (`FROM`, `FROM NAMED`) and the
`USING`/`WITH` clauses of updates. None of this is a security decision: a token it misreads can only
make a dataset wider *within* the graphs the caller may see, or a request fail. The security checks
(`SERVICE`, `LOAD`, graphs an update writes) use a real parser in `api.guard`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urljoin

QUERY_FORMS = frozenset({"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"})
UPDATE_FORMS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})

_PN_CHARS_BASE = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
_PN_CHARS = _PN_CHARS_BASE + r"_0-9\-\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PN_LOCAL = rf"(?:[{_PN_CHARS_BASE}_:0-9]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"

# Order matters: the first alternative that matches at a position wins (as in the grammar's terminals).
_TOKEN = re.compile(
    rf"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:(?:'|'')?(?:[^'\\]|\\.))*'''|\"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"|'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<var>[?$][{_PN_CHARS}]+)
  | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
  | (?P<bnode>_:[{_PN_CHARS}.]*[{_PN_CHARS}])
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)


class Token(NamedTuple):
    kind: str
    text: str
    start: int

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def tokens(text: str) -> Iterator[Token]:
    """The significant tokens of `text` (whitespace and comments dropped)."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            yield Token(kind, match.group(), match.start())


def unescape_codepoints(text: str) -> str:
    """Apply `\\uXXXX`/`\\UXXXXXXXX` escapes (SPARQL 1.1 Query §19.2) so IRIs compare as the engine sees them."""
    if "\\u" not in text and "\\U" not in text:
        return text
    return _CODEPOINT.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)


class _Prologue:
    """BASE and PREFIX declarations seen so far, to resolve IRIs the way the engine does (§4.1.1)."""

    def __init__(self, base: str | None):
        self.base = base
        self.prefixes: dict[str, str] = {}

    def read(self, stream: list[Token], i: int) -> int:
        """Consume declarations starting at `i`; returns the index of the first other token."""
        while i < len(stream):
            tok = stream[i]
            if tok.is_word("BASE") and i + 1 < len(stream) and stream[i + 1].kind == "iri":
                self.base = self.resolve(stream[i + 1])
                i += 2
            elif (
                tok.is_word("PREFIX")
                and i + 2 < len(stream)
                and stream[i + 1].kind == "pname"
                and stream[i + 2].kind == "iri"
            ):
                self.prefixes[stream[i + 1].text[:-1]] = self.resolve(stream[i + 2]) or ""
                i += 3
            else:
                return i
        return i

    def resolve(self, tok: Token) -> str | None:
        if tok.kind == "iri":
            iri = unescape_codepoints(tok.text[1:-1])
            return urljoin(self.base, iri) if self.base and ":" not in iri.split("/", 1)[0] else iri
        if tok.kind == "pname":
            prefix, _, local = tok.text.partition(":")
            namespace = self.prefixes.get(prefix)
            return None if namespace is None else namespace + re.sub(r"\\(.)", r"\1", local)
        return None


def prologue_end(text: str) -> int:
    """Where the BASE and PREFIX declarations at the start of `text` end (0 when it has none): operations put
    before the first operation of an update must come after them (Oxigraph reads a prologue only there)."""
    end, expect = 0, ""
    for tok in tokens(text):
        if not expect and tok.is_word("BASE"):
            expect = "base"
        elif not expect and tok.is_word("PREFIX"):
            expect = "prefix"
        elif expect == "prefix" and tok.kind == "pname":
            expect = "prefix-iri"
        elif expect in ("base", "prefix-iri") and tok.kind == "iri":
            end, expect = tok.start + len(tok.text), ""
        else:
            break
    return end


def query_form(text: str) -> str | None:
    """The first keyword after the prologue, upper-cased (`SELECT`, `ASK`, …, or an update keyword)."""
    expect: list[str] = []
    for tok in tokens(text):
        if expect:
            if tok.kind != expect.pop(0):
                return None
        elif tok.is_word("BASE"):
            expect = ["iri"]
        elif tok.is_word("PREFIX"):
            expect = ["pname", "iri"]
        else:
            return tok.text.upper() if tok.kind == "word" else None
    return None


@dataclass(frozen=True)
class DatasetClauses:
    """`FROM` and `FROM NAMED` IRIs of a query (SPARQL 1.1 Query §13.2)."""

    default: list[str]
    named: list[str]


def dataset_clauses(text: str, *, base_iri: str | None = None) -> DatasetClauses | None:
    """The query's dataset clauses, or None when it has none (the protocol's or service's dataset applies)."""
    if not _FROM.search(text):
        return None
    prologue, clauses = _from_clauses(text, base_iri)
    default: list[str] = []
    named: list[str] = []
    for _, is_named, iri_token in clauses:
        iri = prologue.resolve(iri_token)
        if iri is not None:
            (named if is_named else default).append(iri)
    if not default and not named:
        return None
    return DatasetClauses(default, named)


def without_dataset_clauses(text: str) -> str:
    """`text` with its top-level FROM / FROM NAMED clauses blanked out (same length, same line numbers)."""
    if not _FROM.search(text):
        return text
    out = list(text)
    for from_token, _, iri_token in _from_clauses(text, None)[1]:
        for i in range(from_token.start, iri_token.start + len(iri_token.text)):
            if out[i] not in "\r\n":
                out[i] = " "
    return "".join(out)


def _from_clauses(text: str, base_iri: str | None) -> tuple[_Prologue, list[tuple[Token, bool, Token]]]:
    """The query's prologue and its top-level dataset clauses: (the FROM token, NAMED or not, the IRI token)."""
    stream = list(tokens(text))
    prologue = _Prologue(base_iri)
    i = prologue.read(stream, 0)
    if i >= len(stream) or not stream[i].is_word(*QUERY_FORMS):
        return prologue, []
    form = stream[i].text.upper()
    i += 1
    if form == "CONSTRUCT" and i < len(stream) and stream[i].text == "{":
        i = _skip_group(stream, i)
    clauses = []
    depth = 0
    while i < len(stream):
        tok = stream[i]
        if tok.text in ("{", "("):
            if tok.text == "{" and depth == 0:
                break
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.is_word("WHERE"):
            break
        elif depth == 0 and tok.is_word("FROM"):
            j = i + 1
            is_named = j < len(stream) and stream[j].is_word("NAMED")
            if is_named:
                j += 1
            if j < len(stream) and stream[j].kind in ("iri", "pname"):
                clauses.append((tok, is_named, stream[j]))
                i = j
        i += 1
    return prologue, clauses


def _skip_group(stream: list[Token], i: int) -> int:
    """Index just past the `{ … }` group that starts at `i`."""
    depth = 0
    while i < len(stream):
        if stream[i].text == "{":
            depth += 1
        elif stream[i].text == "}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def update_has_dataset_clause(text: str) -> bool:
    """Whether an update names its own dataset with `USING`, `USING NAMED` or `WITH` (Update §3.1.3)."""
    depth = 0
    for tok in tokens(text):
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
        elif depth == 0 and tok.is_word("USING", "WITH"):
            return True
    return False


def add_using_clauses(text: str, using: list[str], using_named: list[str]) -> str:
    """Insert `USING`/`USING NAMED` before the `WHERE` of every DELETE/INSERT operation (Protocol §2.2.3)."""
    clause = " ".join([f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named])
    out: list[str] = []
    last = 0
    depth = 0
    previous: Token | None = None
    for tok in tokens(text):
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
        elif depth == 0 and tok.is_word("WHERE") and not (previous is not None and previous.is_word("DELETE")):
            out.append(text[last : tok.start])
            out.append(f"{clause} ")
            last = tok.start
        previous = tok
    out.append(text[last:])
    return "".join(out)


_ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^<>\"{}|^`\\\x00-\x20]*")


def without_trailing_separator(text: str) -> str:
    """`text` without a final `;` (comments after it included), so that more operations can follow it.

    The grammar allows one trailing `;` (Update §3, W3C syntax-update-38), but not two in a row.
    """
    last = None
    for token in tokens(text):
        last = token
    if last is not None and last.text == ";":
        return text[: last.start]
    return text


def is_absolute_iri(text: str) -> bool:
    """Whether `text` can stand between `<` and `>` as an absolute IRI (RFC 3987, as SPARQL's IRIREF)."""
    return _ABSOLUTE_IRI.fullmatch(text) is not None


def is_single_pattern(text: str) -> bool:
    """Whether a query is one triple pattern and nothing else (SELECT/ASK/CONSTRUCT WHERE, LIMIT at most).

    Such a query costs one index range scan, which the row cap cuts off after `max_rows + 1` rows, so
    it can run without the worker round trip. The test is a regular expression for exactly that shape,
    built from the grammar's own terminals (§19.8): no FILTER, paths, blank nodes, FROM, ORDER BY,
    OFFSET or DISTINCT. Text it accepts is that shape or a syntax error; nothing else gets through.
    """
    return _SINGLE_PATTERN.fullmatch(text) is not None


def _single_pattern_regex() -> re.Pattern:
    # One way to match any run of blanks and comments (no nested repetition: no catastrophic backtracking).
    ws = r"(?:[ \t\r\n]|\#[^\r\n]*(?![^\r\n]))*"
    iri = r"""<[^<>"{}|^`\\\x00-\x20]*>"""
    pname = rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"
    var = rf"[?$][{_PN_CHARS}]+"
    string = r"""'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*\""""
    literal = (
        rf"(?:{string})(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:{iri}|{pname}))?|[+-]?[0-9]+(?:\.[0-9]+)?|true|false"
    )
    node = rf"(?:{var}|{iri}|{pname})"
    prologue = rf"(?:{ws}(?:(?i:BASE){ws}{iri}|(?i:PREFIX){ws}(?:{_PN_PREFIX})?:{ws}{iri}))*"
    select = rf"(?i:SELECT){ws}(?:\*|{var}(?:{ws}{var})*)(?:{ws}(?i:WHERE))?"
    head = rf"(?:{select}|(?i:ASK)(?:{ws}(?i:WHERE))?|(?i:CONSTRUCT){ws}(?i:WHERE))"
    body = rf"\{{{ws}{node}{ws}(?:{node}|a){ws}(?:{node}|{literal}){ws}(?:\.{ws})?\}}"
    return re.compile(rf"{prologue}{ws}{head}{ws}{body}(?:{ws}(?i:LIMIT){ws}[0-9]+)?{ws}", re.DOTALL)


_SINGLE_PATTERN = _single_pattern_regex()
