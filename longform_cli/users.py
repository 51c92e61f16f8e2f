"""`longform users create`: an operator makes an account (open sign-up may be off), on the database
through the operator's module (services/operator.py)."""

import getpass
import os
import sys

from services.operator import AccountRefused, create_user


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
        user_id, stored_email = await create_user(url, email=email, name=name, password=_password(password_stdin),
                                                  operator=operator)
    except AccountRefused as refused:
        sys.exit(str(refused))
    role = " (an operator: may read the system log)" if operator else ""
    print(f"created user {user_id} <{stored_email}>{role}; they sign in with `longform login` or on the page")
