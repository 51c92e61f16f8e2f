"""Accounts: sign-up, sign-in and out of the page (sessions), who is calling, and personal API
tokens. Passwords are hashed with argon2; session secrets and tokens are random and stored as
their sha256 (services/gateway/auth.py). None of them is ever a statement's text, only its
parameters, and the columns holding their hashes are named so the row audit redacts them."""

import asyncio
import functools
import secrets
import uuid
from datetime import timedelta
from typing import Annotated, Union

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from contracts.envelope import Envelope
from contracts.messages import UserCreated
from services.common.db import Database, Reads, Tx
from services.gateway import limiter
from services.gateway.auth import SESSION_COOKIE, current_user, page_user, secret_hash
from services.gateway.recorded import reads_of
from services.gateway.schemas import CreatedUser, NewUser, Problem

SERVICE = "gateway"
MIN_PASSWORD = 10
SESSION_LIFETIME = timedelta(days=14)
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
_hasher = PasswordHasher()
router = APIRouter()


def _refusals(described: dict[int, str]) -> dict:
    return {code: {"model": Problem, "description": text} for code, text in described.items()}


_SIGNED_IN = _refusals({401: "Missing or invalid token (or session)."})
_CHANGE = _SIGNED_IN | _refusals({403: "Signed in by the session cookie without the header X-Longform-CSRF: 1."})
_UNREADABLE = _refusals({400: "The body is not JSON (or not UTF-8)."})


class EmailTaken(Exception):
    pass


class SignUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320, pattern=_EMAIL)
    password: str = Field(min_length=MIN_PASSWORD, max_length=1024)
    name: str = Field(default="", max_length=200)

    @field_validator("email")
    @classmethod
    def _normal(cls, value: str) -> str:
        return value.strip().lower()


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class SignedUp(BaseModel):
    user_id: uuid.UUID
    email: str
    token: str


class SignedIn(BaseModel):
    user_id: uuid.UUID
    email: str


class Me(BaseModel):
    user_id: uuid.UUID
    email: str | None
    name: str


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)


class TokenView(BaseModel):
    id: uuid.UUID
    name: str
    created_at: str


class CreatedToken(TokenView):
    token: str = Field(description="The token itself: shown this once, stored only as its hash.")


class TokenList(BaseModel):
    tokens: list[TokenView]


def _kind(body) -> str:
    return "account" if isinstance(body, dict) and ("email" in body or "password" in body) else "api-only"


# With an email and password, an account that can sign in; with a name only, a token-only API user.
NewAccount = Annotated[Union[Annotated[SignUp, Tag("account")], Annotated[NewUser, Tag("api-only")]],
                       Discriminator(_kind)]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


async def create_account(db: Database, *, name: str, email: str | None = None, password: str | None = None,
                         token_name: str | None = "sign-up", operator: bool = False) -> tuple[uuid.UUID, str | None]:
    """The user, and their first API token if `token_name`; raises EmailTaken. Only the
    operators' command makes an `operator` (who may read the system stream)."""
    password_hash = await asyncio.to_thread(_hasher.hash, password) if password is not None else None
    user_id, token = uuid.uuid4(), new_secret() if token_name else None
    try:
        async with db.transaction(user_id=user_id) as tx:
            await tx.execute("INSERT INTO gateway.users (id, name, email, password_hash, operator)"
                             " VALUES ($1, $2, $3, $4, $5)", user_id, name, email, password_hash, operator)
            if token:
                await _insert_token(tx, user_id, token_name, token)
            tx.emit(Envelope.wrap(UserCreated(name=name), service=SERVICE, job_id=None, user_id=user_id))
    except asyncpg.UniqueViolationError as exc:
        raise EmailTaken(email) from exc
    return user_id, token


async def _insert_token(tx: Tx, user_id: uuid.UUID, name: str, token: str):
    return await tx.fetchrow(
        "INSERT INTO gateway.api_tokens (id, user_id, name, token_hash) VALUES ($1, $2, $3, $4)"
        " RETURNING id, name, created_at", uuid.uuid4(), user_id, name, secret_hash(token))


@functools.cache
def _decoy_hash() -> str:
    return _hasher.hash(new_secret())


async def check_password(reads: Reads, email: str, password: str) -> uuid.UUID | None:
    """The account whose password this is, or None. An unknown address costs the same argon2 work
    as a wrong password, so timing does not tell which addresses have accounts."""
    rows = await reads.fetch("SELECT id, password_hash FROM gateway.users WHERE lower(email) = lower($1)",
                             email.strip())
    stored = rows[0]["password_hash"] if rows else None
    if rows:
        reads.user_id = rows[0]["id"]  # a failed attempt is in the account's own log too
    try:
        await asyncio.to_thread(_hasher.verify, stored or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return rows[0]["id"] if stored else None


async def start_session(db: Database, user_id: uuid.UUID) -> str:
    secret = new_secret()
    async with db.transaction(user_id=user_id) as tx:
        await tx.execute("INSERT INTO gateway.sessions (id, user_id, secret_hash, expires_at)"
                         " VALUES ($1, $2, $3, now() + $4::interval)",
                         uuid.uuid4(), user_id, secret_hash(secret), SESSION_LIFETIME)
    return secret


def _set_session_cookie(response: Response, request: Request, secret: str) -> None:
    response.set_cookie(SESSION_COOKIE, secret, max_age=int(SESSION_LIFETIME.total_seconds()), path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")


@router.post("/v1/users", status_code=201, response_model=SignedUp | CreatedUser, responses=_refusals(
    {400: "The body is not JSON (or not UTF-8).", 403: "Open sign-up is turned off.",
     409: "An account with this email exists.", 429: "Too many sign-ups from this address (Retry-After says when)."}))
async def sign_up(body: Annotated[NewAccount, Body()], request: Request, response: Response):
    """Open sign-up (unless LONGFORM_OPEN_SIGNUP=false): with an email and a password of at least
    10 characters, an account that can sign in, its first API token and a page session; with only
    a name, a token-only API user."""
    db = request.app.state.db
    if not request.app.state.settings.open_signup:
        raise HTTPException(403, "open sign-up is turned off on this server; ask an operator for an account")
    await limiter.take(request, "signup")
    if isinstance(body, NewUser):
        user_id, token = await create_account(db, name=body.name)
        return CreatedUser(id=user_id, token=token)
    try:
        user_id, token = await create_account(db, name=body.name, email=body.email, password=body.password)
    except EmailTaken:
        raise HTTPException(409, "an account with this email already exists: sign in instead") from None
    _set_session_cookie(response, request, await start_session(db, user_id))
    return SignedUp(user_id=user_id, email=body.email, token=token)


@router.post("/v1/session", response_model=SignedIn,
             responses=_UNREADABLE | _refusals({401: "Wrong email or password.",
                                                429: "Too many sign-ins from this address (Retry-After says when)."}))
async def sign_in(body: SignIn, request: Request, response: Response) -> SignedIn:
    await limiter.take(request, "signin")
    user_id = await check_password(reads_of(request), body.email, body.password)
    if user_id is None:
        raise HTTPException(401, "wrong email or password")
    _set_session_cookie(response, request, await start_session(request.app.state.db, user_id))
    return SignedIn(user_id=user_id, email=body.email.strip().lower())


@router.delete("/v1/session", status_code=204)
async def sign_out(request: Request) -> Response:
    user_id = await page_user(request)
    if user_id is not None:
        async with request.app.state.db.transaction(user_id=user_id) as tx:
            await tx.execute("UPDATE gateway.sessions SET ended_at = now() WHERE secret_hash = $1 AND ended_at IS NULL",
                             secret_hash(request.cookies[SESSION_COOKIE]))
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


@router.get("/v1/me", response_model=Me, responses=_SIGNED_IN)
async def me(request: Request, user_id: uuid.UUID = Depends(current_user)) -> Me:
    rows = await reads_of(request).fetch("SELECT email, name FROM gateway.users WHERE id = $1", user_id)
    return Me(user_id=user_id, email=rows[0]["email"], name=rows[0]["name"])


def _token_view(row) -> dict:
    return {"id": row["id"], "name": row["name"], "created_at": row["created_at"].isoformat()}


@router.post("/v1/tokens", status_code=201, response_model=CreatedToken,
             responses=_UNREADABLE | _CHANGE | _refusals({429: "Too many tokens made a minute (Retry-After says when)."}))
async def create_token(body: NewToken, request: Request, user_id: uuid.UUID = Depends(current_user)) -> CreatedToken:
    await limiter.take(request, "token", user_id=user_id)
    token = new_secret()
    async with request.app.state.db.transaction(user_id=user_id) as tx:
        row = await _insert_token(tx, user_id, body.name, token)
    return CreatedToken(**_token_view(row), token=token)


@router.get("/v1/tokens", response_model=TokenList, responses=_SIGNED_IN)
async def list_tokens(request: Request, user_id: uuid.UUID = Depends(current_user)) -> TokenList:
    rows = await reads_of(request).fetch(
        "SELECT id, name, created_at FROM gateway.api_tokens WHERE user_id = $1 AND revoked_at IS NULL"
        " ORDER BY created_at", user_id)
    return TokenList(tokens=[TokenView(**_token_view(r)) for r in rows])


@router.delete("/v1/tokens/{token_id}", status_code=204,
               responses=_CHANGE | _refusals({404: "No such token of the caller's (or revoked already)."}))
async def revoke_token(token_id: uuid.UUID, request: Request, user_id: uuid.UUID = Depends(current_user)) -> Response:
    async with request.app.state.db.transaction(user_id=user_id) as tx:
        revoked = await tx.fetchval("UPDATE gateway.api_tokens SET revoked_at = now()"
                                    " WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING true",
                                    token_id, user_id)
    if not revoked:
        raise HTTPException(404, "token not found")
    return Response(status_code=204)
