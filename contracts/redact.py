"""Secrets never reach the audit log: every string in an event's data passes through `redact`
before the event is stored. It removes the secrets this process was configured with (API keys,
database and NATS passwords from the environment) wherever they appear, and anything shaped like
one: Authorization headers, bearer tokens, provider keys, passwords in URLs, and query
parameters or `name=value` pairs named exactly as a secret.

Secrets, not words: a key, column or parameter is a secret's only when its whole name is one of
SECRET_NAMES (the row audit's SQL function in migrations/0018 holds the same list), so token
counts (`input_tokens`), timings and prose that mentions a key or a password stay readable."""

import os
import re
from typing import Any
from urllib.parse import unquote, urlsplit

MASK = "[redacted]"
SECRET_NAMES = frozenset({"access_token", "api-key", "api_key", "apikey", "authorization", "client_secret",
                          "password", "password_hash", "proxy-authorization", "refresh_token", "secret",
                          "secret_hash", "token", "token_hash", "x-api-key"})  # api-key: Azure OpenAI's header
# A name in text: one of these, alone or at the end of a longer name (db_password, CLIENT_SECRET),
# or `token` alone; never a name that merely contains them (input_tokens, secret_hash, monkey).
_ENDINGS = r"(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?token|refresh[_-]?token)"
_SECRET_NAME = rf"(?:(?:[A-Za-z0-9]+[_-])*{_ENDINGS}|token)"
_QUERY_NAME = rf"(?:{_SECRET_NAME}|signature|sig|key)"  # in a URL's query, `key` and `sig` are secrets too
_PATTERNS = (
    # Authorization: Bearer xyz / "authorization": "xyz" / x-api-key: xyz
    re.compile(r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?[^\s\"',;}]+"),
    re.compile(r"(?i)(\bx-api-key\b[\"']?\s*[:=]\s*[\"']?)[^\s\"',;}]+"),
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    # provider keys: sk-..., sk-ant-..., and the like
    re.compile(r"()\b(?:sk|rk|pk)-[A-Za-z0-9_-]{16,}"),
    # scheme://user:password@host
    re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+(?=@)", re.I),
    # ?api_key=...&token=... and name=value / "name": "value" pairs
    re.compile(rf"(?i)([?&;]{_QUERY_NAME}=)[^&\s\"']+"),
    re.compile(rf"(?i)((?<![\w-]){_SECRET_NAME}=)[^&\s\"',;)]+"),
    re.compile(rf"(?i)((?<![\w-])[\"']?{_SECRET_NAME}[\"']\s*:\s*[\"'])[^\"']+(?=[\"'])"),
)
# Every pattern above needs one of these; most text has none, and skips the patterns.
_MAYBE = re.compile(r"(?i)authorization|x-api-key|bearer|[srp]k-|://|api[_-]?key|token|secret|passw|pwd|sig|key")
_ENV_SECRET = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD)", re.I)
_MIN_SECRET_LENGTH = 6
_CACHED_LENGTH = 1000
_CACHED_STRINGS = 8192


class Redactor:
    def __init__(self, secrets: set[str] | None = None) -> None:
        self.secrets = sorted((s for s in (secrets or set()) if len(s) >= _MIN_SECRET_LENGTH), key=len, reverse=True)
        self._done: dict[str, str] = {}

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> "Redactor":
        """The values of variables named like secrets, and passwords inside URLs."""
        environ = dict(os.environ if environ is None else environ)
        found = {value for name, value in environ.items() if _ENV_SECRET.search(name) and value}
        for value in environ.values():
            if "://" in value and "@" in value:
                password = _url_password(value)
                if password:
                    found |= {password, unquote(password)}
        return cls(found)

    def text(self, value: str) -> str:
        """Short strings (SQL, table and column names, summaries) come back again and again: each is
        redacted once per process."""
        if len(value) <= _CACHED_LENGTH:
            if (done := self._done.get(value)) is None:
                if len(self._done) >= _CACHED_STRINGS:
                    self._done.clear()
                done = self._done[value] = self._text(value)
            return done
        return self._text(value)

    def _text(self, value: str) -> str:
        for secret in self.secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        if _MAYBE.search(value):
            for pattern in _PATTERNS:
                value = pattern.sub(lambda m: m.group(1) + MASK, value)
        return value

    def data(self, value: Any) -> Any:
        """`value` with every string redacted, and the whole string under a key named like a secret."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: MASK if isinstance(v, str) and k.lower() in SECRET_NAMES else self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        return value


def _url_password(value: str) -> str | None:
    try:
        return urlsplit(value).password
    except ValueError:
        return None
