"""Staff tokens: configured as SHA-256 hashes with a role, presented as `Authorization: Bearer TOKEN`.

Roles are ordered: a reader sees internal graphs, an editor also writes, an admin may do everything.
Anonymous callers see public graphs only. Only hashes are configured, so a leaked settings file does
not leak a token.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import IntEnum

from fastapi import Request

from api.errors import HttpProblem


class Role(IntEnum):
    ANONYMOUS = 0
    READER = 1
    EDITOR = 2
    ADMIN = 3


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role, and whether internal graphs are visible to them."""

    role: Role

    @property
    def sees_internal(self) -> bool:
        return self.role >= Role.READER


ANONYMOUS = Principal(Role.ANONYMOUS)
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="querschnitt"'}


def hash_token(token: str) -> str:
    """The SHA-256 hex digest to configure for `token` (`QUERSCHNITT_TOKENS=editor:<digest>`)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_tokens(spec: str) -> list[tuple[str, Role]]:
    """Parse `role:sha256hex,…`; raise ValueError naming the first bad entry."""
    entries = []
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        role, _, digest = entry.partition(":")
        digest = digest.strip().lower()
        if role.strip().upper() not in Role.__members__ or role.strip().upper() == "ANONYMOUS":
            raise ValueError(f"QUERSCHNITT_TOKENS: unknown role {role!r} (use reader, editor or admin)")
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"QUERSCHNITT_TOKENS: {role}:… needs a SHA-256 hex digest of the token (64 hex digits)")
        entries.append((digest, Role[role.strip().upper()]))
    return entries


def authenticate(request: Request) -> Principal:
    """The caller of `request`: anonymous without a token; 401 for a token that is not configured."""
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HttpProblem(401, "Use `Authorization: Bearer TOKEN`.", _CHALLENGE)
    digest = hash_token(token.strip())
    role = None
    for known, known_role in request.app.state.tokens:
        # Compare every entry in constant time, so timing tells nothing about near misses.
        if hmac.compare_digest(known, digest):
            role = known_role
    if role is None:
        raise HttpProblem(401, "The token is not valid.", _CHALLENGE)
    return Principal(role)


def require(principal: Principal, role: Role) -> None:
    """Refuse with 401 (no token) or 403 (a token whose role is too low) unless `principal` has `role`."""
    if principal.role >= role:
        return
    if principal.role is Role.ANONYMOUS:
        raise HttpProblem(401, f"This needs a staff token with the role {role.name.lower()}.", _CHALLENGE)
    raise HttpProblem(403, f"This needs the role {role.name.lower()}; the token has {principal.role.name.lower()}.")
