"""The sandbox's OAuth2 memory: authorization codes, access and refresh tokens.

Rules as Discord (and RFC 6749/7636) apply them: a code lives 10 minutes and works once,
for the redirect URI it was issued to, and only with the PKCE verifier whose S256 hash
is the challenge it was issued with; using a code twice also revokes what it gave. A
refresh token works once and is replaced by a new pair.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass

CODE_LIFETIME = 600.0  # seconds
ACCESS_TOKEN_LIFETIME = 604_800  # seconds: Discord's 7 days


class OAuthGrantError(Exception):
    """A token request Discord would refuse: `error` and `error_description` as RFC 6749."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass
class AuthorizationCode:
    """A code given to a person's browser, waiting to be exchanged for tokens."""

    user_id: int
    redirect_uri: str
    scope: str
    code_challenge: str | None
    expires_at: float  # time.monotonic()
    used: bool = False
    grant: Grant | None = None


@dataclass
class Grant:
    """An access token and its refresh token, both for one person."""

    access_token: str
    refresh_token: str
    user_id: int
    scope: str
    expires_at: float  # time.time()
    revoked: bool = False

    def token_response(self) -> dict[str, object]:
        """The body of a successful token response."""
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": max(0, int(self.expires_at - time.time())),
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        }


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of a verifier."""
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class OAuthStore:
    """Codes and tokens the sandbox issued, looked up by their secret values."""

    def __init__(self, access_token_lifetime: float = ACCESS_TOKEN_LIFETIME) -> None:
        self.access_token_lifetime = access_token_lifetime  # seconds
        self._codes: dict[str, AuthorizationCode] = {}
        self._by_access: dict[str, Grant] = {}
        self._by_refresh: dict[str, Grant] = {}

    def issue_code(
        self, user_id: int, redirect_uri: str, scope: str, code_challenge: str | None
    ) -> str:
        """A new authorization code for a person who approved the request."""
        now = time.monotonic()
        self._codes = {k: c for k, c in self._codes.items() if c.expires_at > now - 3600}
        code = secrets.token_urlsafe(24)
        self._codes[code] = AuthorizationCode(
            user_id, redirect_uri, scope, code_challenge, now + CODE_LIFETIME
        )
        return code

    def redeem_code(self, code: str, redirect_uri: str | None, verifier: str | None) -> Grant:
        """Exchange a code for tokens; raises OAuthGrantError when any rule is broken."""
        found = self._codes.get(code)
        if found is None or found.expires_at < time.monotonic():
            raise OAuthGrantError("invalid_grant", 'Invalid "code" in request.')
        if found.used:
            if found.grant is not None:
                self._revoke(found.grant)
            raise OAuthGrantError("invalid_grant", 'Invalid "code" in request.')
        found.used = True
        if redirect_uri != found.redirect_uri:
            raise OAuthGrantError("invalid_grant", 'Invalid "redirect_uri" in request.')
        if found.code_challenge is not None and (
            not verifier or not secrets.compare_digest(s256(verifier), found.code_challenge)
        ):
            raise OAuthGrantError("invalid_grant", 'Invalid "code_verifier" in request.')
        found.grant = self._new_grant(found.user_id, found.scope)
        return found.grant

    def refresh(self, refresh_token: str) -> Grant:
        """A new token pair for a refresh token, which stops working."""
        grant = self._by_refresh.get(refresh_token)
        if grant is None or grant.revoked:
            raise OAuthGrantError("invalid_grant", 'Invalid "refresh_token" in request.')
        self._revoke(grant)
        return self._new_grant(grant.user_id, grant.scope)

    def user_of(self, access_token: str) -> Grant | None:
        """The live grant an access token belongs to, if any."""
        grant = self._by_access.get(access_token)
        if grant is None or grant.revoked or grant.expires_at < time.time():
            return None
        return grant

    def _new_grant(self, user_id: int, scope: str) -> Grant:
        grant = Grant(
            access_token=secrets.token_urlsafe(30),
            refresh_token=secrets.token_urlsafe(30),
            user_id=user_id,
            scope=scope,
            expires_at=time.time() + self.access_token_lifetime,
        )
        self._by_access[grant.access_token] = grant
        self._by_refresh[grant.refresh_token] = grant
        return grant

    def _revoke(self, grant: Grant) -> None:
        grant.revoked = True
        self._by_access.pop(grant.access_token, None)
        self._by_refresh.pop(grant.refresh_token, None)
