"""Binding parameter values into SPARQL text: one way, for the embedded store and a remote one alike.

Every value a caller passes (a named query's parameter, the entities of a page) is a pyoxigraph term and is
written into the text by pyoxigraph's own serialisation (`str(term)`: `<iri>` checked when the term was made,
literals with every quote, line break and brace escaped), so no value can break out of its place. One term per
variable replaces the variable as SEP-0007 (and pyoxigraph's `substitutions=`) define it; a list of terms
becomes `VALUES ?name { … }` at the start of the WHERE group. The planner then sees constants, which it cannot
for a value bound by `substitutions=` (only bound after the query is planned), and a remote server needs no
support for substitutions at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyoxigraph import Literal, NamedNode, Variable

from api.sparql_text import _Prologue, tokens


class BindingRefused(ValueError):
    """A value cannot be bound: the query binds that variable itself (`AS ?name`, VALUES)."""


Term = NamedNode | Literal


def bind_text(text: str, values: Mapping[str, Term | Sequence[Term]] | None) -> str:
    """`text` with each variable of `values` bound: one term substituted (SEP-0007), a list as a VALUES block."""
    if not values:
        return text
    single = {name: v for name, v in values.items() if not isinstance(v, list | tuple | set | frozenset)}
    lists = {name: list(v) for name, v in values.items() if name not in single}
    if single:
        text = substitute(text, single)
    for name, terms in lists.items():
        Variable(name)  # raises ValueError for anything that is not a variable name
        for term in terms:
            if not isinstance(term, NamedNode | Literal):
                raise TypeError(f"?{name}: a NamedNode or Literal is needed, not {type(term).__name__}")
        text = _with_values_rows(text, name, [str(t) for t in terms])
    return text


def _with_values_rows(text: str, name: str, terms: list[str]) -> str:
    """`text` with `VALUES ?name { t1 t2 … }` as the first element of its WHERE group."""
    return _insert_at_where(text, f" VALUES ?{name} {{ {' '.join(terms)} }} ")


def substitute(text: str, substitutions: dict[str, NamedNode | Literal]) -> str:
    """`text` with each substituted variable replaced by its term, as SEP-0007 (and pyoxigraph) define it.

    The safe stand-in for servers without substitutions: every occurrence of `?name`/`$name` becomes the
    term written by pyoxigraph (`str(term)` escapes quotes, line breaks, `}` and everything else), so that
    nested groups see the value as the embedded store's pre-binding does. In the top-level SELECT list it
    becomes `(term AS ?name)`, after GROUP BY / ORDER BY `(term)`; a top-level `SELECT *` also gets
    `VALUES ?name { term }` so the column stays. A sub-select's SELECT list just drops it (nothing outside
    refers to it any more), unless that would leave the list empty: then it is `(term AS ?name)` there, and
    the top level keeps `?name` as a variable bound by such a VALUES block, since `(term AS ?name)` may not
    name a variable already in scope (SPARQL 1.1 Query §18.2.1). A variable the query binds itself
    (`AS ?name`, VALUES) is refused. The caller parses the result again before it is sent.
    """
    terms: dict[str, str] = {}
    for name, term in substitutions.items():
        Variable(name)  # raises ValueError for anything that is not a variable name
        if not isinstance(term, NamedNode | Literal):
            raise TypeError(f"substitution ?{name}: a NamedNode or Literal is needed, not {type(term).__name__}")
        terms[name] = str(term)
    stream = list(tokens(text))
    lists = _select_lists(stream, terms)
    # Sub-selects listing nothing but substituted variables keep them as `(term AS ?name)` columns.
    bound_inside = {name for sub, names, others in lists.values() if sub and not others for name in names}
    out: list[str] = []
    last = 0
    projection = False  # inside a SELECT list
    keep_columns = False  # ... that must keep substituted columns (the top level, or a list with nothing else)
    star_select = False
    modifier = False  # after GROUP BY / ORDER BY
    grouping_by_others = False  # a GROUP BY with conditions besides the substituted variables
    values_header = False
    depth = 0  # parentheses
    braces = 0  # 0: the top-level SELECT list and modifiers
    kept: set[str] = set()
    for index, tok in enumerate(stream):
        previous = stream[index - 1] if index else None
        if tok.is_word("SELECT"):
            sub, _, others = lists[index]
            projection, depth, keep_columns = True, 0, not sub or not others
            if not sub:
                star_select = any(t.text == "*" for t in stream[index + 1 : index + 3])
        elif tok.is_word("VALUES"):
            values_header = True
        elif tok.text in ("{", "}"):  # a sub-select's modifiers end with its group
            projection = modifier = values_header = False
            braces += 1 if tok.text == "{" else -1
        elif projection and depth == 0 and tok.is_word("WHERE", "FROM"):
            projection = False
        elif tok.is_word("BY") and previous is not None and previous.is_word("GROUP", "ORDER"):
            modifier, depth = True, 0
            grouping_by_others = previous.is_word("GROUP") and _other_conditions(stream, index + 1, terms) > 0
        elif modifier and depth == 0 and tok.is_word("HAVING", "ORDER", "LIMIT", "OFFSET"):
            grouping_by_others = False
        elif tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if tok.kind != "var" or tok.text[1:] not in terms:
            continue
        name, term = tok.text[1:], terms[tok.text[1:]]
        if values_header or (previous is not None and previous.is_word("AS")):
            raise BindingRefused(f"?{name} is bound by the query itself and cannot be substituted")
        if (projection or modifier) and depth == 0 and braces == 0 and name in bound_inside:
            kept.add(name)
            continue
        if projection and depth == 0:
            replacement = f"({term} AS ?{name})" if keep_columns else ""
        elif modifier and depth == 0 and grouping_by_others:
            # Grouping by a constant changes no group; Virtuoso 7.2 fails on `GROUP BY (<iri>)` in some
            # queries ("VECSL: Internal error, ssl refd before set"). Alone it must stay: without any
            # GROUP BY, an aggregate over no rows gives one row instead of none.
            replacement = ""
        elif modifier and depth == 0:
            replacement = f"({term})"
        else:
            replacement = term
        out += [text[last : tok.start], replacement]
        last = tok.start + len(tok.text)
    out.append(text[last:])
    result = "".join(out)
    if star_select:
        result = _with_values(result, terms)
    elif kept:
        result = _with_values(result, {name: terms[name] for name in sorted(kept)})
    return result


def _other_conditions(stream: list, start: int, terms: dict[str, str]) -> int:
    """The number of GROUP BY conditions from `start` on that are not substituted variables."""
    count = depth = 0
    for index in range(start, len(stream)):
        tok = stream[index]
        if depth == 0 and (tok.text in ("{", "}") or tok.is_word("HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES")):
            break
        if tok.text == "(":
            opens_call = index > start and stream[index - 1].kind in ("word", "iri", "pname")
            count += depth == 0 and not opens_call
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and (tok.kind in ("word", "iri", "pname") or (tok.kind == "var" and tok.text[1:] not in terms)):
            count += 1
    return count


def _select_lists(stream: list, terms: dict[str, str]) -> dict[int, tuple[bool, set[str], int]]:
    """For each SELECT token's index: whether it is a sub-select (inside a group), the substituted
    variables its list names, and how many other columns it has (`*` counts as one)."""
    lists: dict[int, tuple[bool, set[str], int]] = {}
    braces = depth = 0
    current: int | None = None
    for index, tok in enumerate(stream):
        if tok.text == "{":
            braces += 1
            current = None
        elif tok.text == "}":
            braces -= 1
        elif tok.is_word("SELECT"):
            current, depth = index, 0
            lists[index] = (braces > 0, set(), 0)
        elif current is not None:
            sub, names, others = lists[current]
            if depth == 0 and tok.is_word("WHERE", "FROM"):
                current = None
                continue
            if depth == 0 and tok.kind == "var" and tok.text[1:] in terms:
                names.add(tok.text[1:])
            elif depth == 0 and (tok.kind == "var" or tok.text in ("(", "*")):
                lists[current] = (sub, names, others + 1)
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
    return lists


def _with_values(text: str, terms: dict[str, str]) -> str:
    """`text` with `VALUES (?a ?b) { (t1 t2) }` as the first element of its WHERE group."""
    return _insert_at_where(text, f" VALUES ({' '.join('?' + n for n in terms)}) {{ ({' '.join(terms.values())}) }} ")


def _insert_at_where(text: str, block: str) -> str:
    """`text` with `block` as the first element of its WHERE group (after the prologue, outside brackets)."""
    stream = list(tokens(text))
    i = _Prologue(None).read(stream, 0)
    depth = 0
    while i < len(stream):
        tok = stream[i]
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.text == "{" and depth == 0:
            at = tok.start + 1
            return text[:at] + block + text[at:]
        i += 1
    raise BindingRefused("substitutions need a WHERE group")
