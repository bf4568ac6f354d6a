"""Keeping personal data (people, memberships, their contacts) out of public graphs on every write path.

The staff loader puts people into the `-internal` graph, but data also arrives as RDF files, quad
files (an export loaded back), DCAT harvests and editors' uploads, whose authors may not know the rule.
The stores watch every quad stream they write: statements that identify a person — a `foaf:Person` or
`org:Membership`, a membership or contact link, or a mailbox/phone/name of a subject typed as a person
(in the stream or anywhere in the store) — refuse the write of a public graph, naming the graph and the
subject, and nothing is written. Organisational contacts stay public: a department's functional mailbox
or a DCAT contact point (vCard) is not personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from pyoxigraph import NamedNode, Quad

from loaders.vocab import FOAF, ORG, QS, RDF

PERSON_TYPES = frozenset({FOAF.Person, ORG.Membership})
# Links whose object is a person: personal data wherever they appear.
PERSON_LINKS = frozenset({ORG.member, QS.contactPerson, ORG.hasMember})
# Statements that are personal when their subject is a person (a department may have a mailbox too).
PERSON_DETAILS = frozenset({FOAF.mbox, FOAF.phone, FOAF.name, FOAF.givenName, FOAF.familyName, ORG.memberOf})
_EXAMPLES = 3
_TYPE = RDF.type  # a constant: the namespace makes a new term on every attribute access


class PersonalDataWatch:
    """Passes a quad stream through and remembers, per graph, what in it identifies a person."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}
        self.persons: set = set()
        # Subjects with person details whose type the stream did not state: asked of the store afterwards.
        self.candidates: dict[str, set] = {}

    def watch(self, quads: Iterable[Quad]) -> Iterator[Quad]:
        for q in quads:
            p = q.predicate
            if p == _TYPE and q.object in PERSON_TYPES:
                self.persons.add(q.subject)
                self._note(q, f"{q.subject} a {q.object}")
            elif p in PERSON_LINKS:
                self._note(q, f"{q.subject} {p} {q.object}")
            elif p in PERSON_DETAILS:
                self.candidates.setdefault(_graph(q), set()).add(q.subject)
            yield q

    def problems(self, public_graphs: Iterable[str], *, typed_as_person: Callable[[list], set]) -> dict[str, list[str]]:
        """Per public graph, examples of the personal data it would hold (empty when there is none)."""
        public = set(public_graphs)
        found = {g: list(examples) for g, examples in self.found.items() if g in public}
        for graph in public:
            subjects = self.candidates.get(graph, set())
            unknown = [s for s in subjects if s not in self.persons]
            persons = {s for s in subjects if s in self.persons} | (typed_as_person(unknown) if unknown else set())
            for subject in sorted(persons, key=str)[:_EXAMPLES]:
                found.setdefault(graph, []).append(f"{subject}: mailbox, phone or name of a person")
        return {g: examples[:_EXAMPLES] for g, examples in found.items() if examples}

    def _note(self, q: Quad, example: str) -> None:
        examples = self.found.setdefault(_graph(q), [])
        if len(examples) < _EXAMPLES:
            examples.append(example)


def refusal(problems: dict[str, list[str]], *, source: str) -> str:
    """The bilingual message for a write refused because public graphs would hold personal data."""
    graph, examples = next(iter(sorted(problems.items())))
    return (
        f"{source}: der öffentliche Graph {graph} enthielte personenbezogene Daten ({'; '.join(examples)}); "
        "nichts wurde geschrieben. Laden Sie die Quelle als intern (--internal) oder entfernen Sie die Personen. / "
        f"the public graph {graph} would hold personal data ({'; '.join(examples)}); nothing was written. "
        "Load the source as internal (--internal) or remove the people."
    )


def typed_as_person_query(subjects: list) -> str:
    """A SELECT over every graph for those of `subjects` typed as a person (blank nodes cannot be asked)."""
    named = " ".join(str(s) for s in subjects if isinstance(s, NamedNode))
    return f"SELECT DISTINCT ?s {{ GRAPH ?g {{ ?s a {FOAF.Person} }} VALUES ?s {{ {named} }} }}"


def _graph(q: Quad) -> str:
    return q.graph_name.value if isinstance(q.graph_name, NamedNode) else ""


def holds_personal_data_query(graphs: Iterable[str]) -> str:
    """A SELECT of the graphs among `graphs` that already hold a person, a membership or a link to a person."""
    values = " ".join(str(NamedNode(g)) for g in graphs)
    types = " ".join(str(t) for t in PERSON_TYPES)
    links = "|".join(str(p) for p in sorted(PERSON_LINKS, key=str))
    return (
        f"SELECT DISTINCT ?g {{ VALUES ?g {{ {values} }} GRAPH ?g {{ "
        f"{{ ?x a ?type VALUES ?type {{ {types} }} }} UNION {{ ?x {links} ?y }} }} }}"
    )


def demote_holding_personal_data(graphs: Iterable[str], *, meta_graph: str) -> str:
    """An update operation making those of `graphs` internal that are public and hold personal data.

    Appended to an update's own transaction, so no reader ever sees a public graph with people in it,
    whatever the update's templates computed; the caller then reports the demotion as an error.
    """
    values = " ".join(str(NamedNode(g)) for g in graphs)
    types = " ".join(str(t) for t in PERSON_TYPES)
    links = "|".join(str(p) for p in sorted(PERSON_LINKS, key=str))
    details = "|".join(str(p) for p in sorted(PERSON_DETAILS, key=str))
    meta = NamedNode(meta_graph)
    return (
        f"DELETE {{ GRAPH {meta} {{ ?g {QS.visibility} {QS.public} }} }} "
        f"INSERT {{ GRAPH {meta} {{ ?g {QS.visibility} {QS.internal} }} }} "
        f"WHERE {{ VALUES ?g {{ {values} }} GRAPH {meta} {{ ?g {QS.visibility} {QS.public} }} "
        f"FILTER EXISTS {{ GRAPH ?g {{ {{ ?x a ?type VALUES ?type {{ {types} }} }} UNION {{ ?x {links} ?y }} "
        f"UNION {{ ?x {details} ?y FILTER EXISTS {{ GRAPH ?any {{ ?x a {FOAF.Person} }} }} }} }} }} }}"
    )
