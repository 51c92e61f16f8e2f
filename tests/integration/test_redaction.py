"""The row audit redacts secrets by their exact names, not by words (SECURITY: "Redact secrets,
not words"). The journey stays here: an account signed up with a password shows no password hash
in its log. The row audit's SQL checked column by column against contracts/redact.py SECRET_NAMES,
and a chunk's calls logged with their token counts and timings, are tested on the handlers:
tests/handler/test_row_audit.py."""

import secrets

from contracts.redact import MASK
from tests.integration.client import ApiClient


def _user_rows(log: list[dict]) -> list[dict]:
    return [e["data"]["fields"] for e in log
            if e["type"] == "db.row_inserted" and e["data"]["table"] == "gateway.users"]


def test_an_accounts_row_in_its_log_shows_no_password_hash(stack) -> None:
    email = f"reader-{secrets.token_hex(4)}@example.com"
    reader = ApiClient.with_password(stack.config.gateway_url, email, "a long enough password")
    try:
        (user,) = _user_rows(reader.audit_until(None, _user_rows))  # the sign-up's row, once the log has it
        assert user["password_hash"] == MASK and user["email"] == email
    finally:
        reader.close()
