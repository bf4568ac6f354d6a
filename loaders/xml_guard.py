"""Refusing XML entity declarations that expand without bound ("billion laughs") or reach outside.

pyoxigraph's RDF/XML parser (oxrdfxml) expands entities declared in the DOCTYPE. Ten nested entities
of ten references each are 10^9 characters: the Rust allocator aborts the whole process (no Python
exception, the server dies). Plain entities such as `<!ENTITY rdf "http://…#">` in OWL files are
common and harmless, so only entities that refer to other entities, parameter entities, and external
(SYSTEM/PUBLIC) entities are refused. Call this on the start of a document, before it is parsed.
"""

from __future__ import annotations

import re

# XML 1.0 §4.2: <!ENTITY [%] Name (EntityValue | ExternalID)>
_ENTITY = re.compile(rb"<!ENTITY\s+(%\s+)?[^\s>]+\s+(SYSTEM|PUBLIC|\"[^\"]*\"|'[^']*')", re.DOTALL)
_DECLARATION = re.compile(rb"<!ENTITY\b")


def xml_entity_problem(head: bytes) -> str | None:
    """Why the XML document starting with `head` is refused, or None when its entities are harmless."""
    declarations = len(_DECLARATION.findall(head))
    entities = _ENTITY.findall(head)
    if len(entities) < declarations:
        return "The XML document declares an entity this service cannot check; remove the DOCTYPE entities."
    for parameter, value in entities:
        if parameter:
            return "The XML document declares a parameter entity; these are not accepted."
        if value in (b"SYSTEM", b"PUBLIC"):
            return "The XML document declares an external entity; these are not accepted."
        if b"&" in value or b"%" in value:
            return "The XML document declares an entity that refers to other entities; these are not accepted."
    return None
