"""Staff tokens: configured as SHA-256 hashes with a role, presented as `Authorization: Bearer TOKEN`.

Roles are ordered: a reader sees internal graphs, an editor also writes, an admin may do everything.
Anonymous callers see public graphs only. Only hashes are configured, so a leaked settings file does
not leak a token.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections import deque
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


class FailedChecks:
    """Failed token checks per client address in the last minute; past `per_minute`, tokens are not checked.

    Without a bound one address tried 1,443 tokens a second. While an address is over
    it, every request from it that carries a token gets 429 — a good token too, or the guessing would go
    on — and anonymous requests are answered as before. The table holds only addresses that failed
    within the minute, and at most `max_clients` of them.
    """

    WINDOW = 60.0

    def __init__(self, per_minute: int, *, max_clients: int = 10_000):
        self.per_minute = per_minute
        self.max_clients = max_clients
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def wait(self, client: str, now: float) -> float:
        """Seconds `client` must wait before its next token is checked (0: go ahead)."""
        if self.per_minute <= 0:
            return 0.0
        with self.lock:
            times = self._recent(client, now)
            if times is None or len(times) < self.per_minute:
                return 0.0
            return times[0] + self.WINDOW - now

    def failed(self, client: str, now: float) -> None:
        """Count a failed check of `client` at `now`."""
        if self.per_minute <= 0:
            return
        with self.lock:
            if client not in self.failures and len(self.failures) >= self.max_clients:
                for other in list(self.failures):
                    self._recent(other, now)
                if len(self.failures) >= self.max_clients:
                    # Still full: the oldest entry goes (dicts keep insertion order).
                    del self.failures[next(iter(self.failures))]
            self.failures.setdefault(client, deque()).append(now)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        times = self.failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.WINDOW:
            times.popleft()
        if not times:
            del self.failures[client]
            return None
        return times


def authenticate(request: Request) -> Principal:
    """The caller of `request`: anonymous without a token; 401 for a token that is not configured.

    429 when the caller's address failed too many token checks within the last minute.
    """
    header = request.headers.get("authorization")
    if not header:
        return ANONYMOUS
    checks: FailedChecks | None = getattr(request.app.state, "failed_checks", None)
    client = request.client.host if request.client else "unknown"
    now = time.monotonic()
    if checks is not None:
        wait = checks.wait(client, now)
        if wait > 0:
            raise HttpProblem(
                429,
                "Too many failed token checks from your address; try again in a minute.",
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
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
        if checks is not None:
            checks.failed(client, now)
        raise HttpProblem(401, "The token is not valid.", _CHALLENGE)
    return Principal(role)


def require(principal: Principal, role: Role) -> None:
    """Refuse with 401 (no token) or 403 (a token whose role is too low) unless `principal` has `role`."""
    if principal.role >= role:
        return
    if principal.role is Role.ANONYMOUS:
        raise HttpProblem(401, f"This needs a staff token with the role {role.name.lower()}.", _CHALLENGE)
    raise HttpProblem(403, f"This needs the role {role.name.lower()}; the token has {principal.role.name.lower()}.")
