"""`longform users create`: an operator makes an account (open sign-up may be off). It goes
through the gateway's own access layer, so its statements and rows are in the new account's
audit log like any other, with the password hash redacted."""

import getpass
import os
import sys

from pydantic import ValidationError

from services.common.db import Database
from services.gateway.accounts import EmailTaken, SignUp, create_account


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != password:
        sys.exit("the passwords differ")
    return password


async def create_user_command(*, email: str, name: str, password_stdin: bool, operator: bool = False) -> None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("set DATABASE_URL to the database to work on")
    try:
        account = SignUp(email=email, password=_password(password_stdin), name=name)
    except ValidationError as exc:
        sys.exit("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()))
    db = await Database.connect(url, "gateway", max_size=1)
    try:
        user_id, _ = await create_account(db, name=account.name, email=account.email, password=account.password,
                                          token_name=None, operator=operator)
    except EmailTaken:
        sys.exit(f"an account with the email {account.email} already exists")
    finally:
        await db.close()
    role = " (an operator: may read the system log)" if operator else ""
    print(f"created user {user_id} <{account.email}>{role}; they sign in with `longform login` or on the page")
