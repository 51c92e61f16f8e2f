"""The web page: server-rendered shells (jinja2) for the new-job form, the Job History and a job's
document; small ES modules in web/static talk to the same /v1 API as every other client, signed in
by the session cookie. A page asked for without a session sends the browser to /login."""

import uuid
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.gateway import auth

WEB = Path(__file__).parent / "web"
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    return StaticFiles(directory=WEB / "static")


async def _signed_in(request: Request, template: str, **context) -> Response:
    user_id = await auth.page_user(request)
    if user_id is None:
        asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(asked, safe='/')}", status_code=303)
    return templates.TemplateResponse(request, template, {"page": template.removesuffix(".html"), **context})


@router.get("/")
async def new_job(request: Request) -> Response:
    return await _signed_in(request, "new_job.html")


@router.get("/jobs")
async def job_history(request: Request) -> Response:
    return await _signed_in(request, "history.html")


@router.get("/jobs/{job_id}")
async def job_page(job_id: uuid.UUID, request: Request) -> Response:
    # Whether the job is the caller's is the API's to say (404 for another's): the page only asks it.
    return await _signed_in(request, "job.html", job_id=str(job_id))


@router.get("/login")
async def login(request: Request) -> Response:
    return await _signed_out(request, "login.html")


@router.get("/signup")
async def signup(request: Request) -> Response:
    return await _signed_out(request, "signup.html")


async def _signed_out(request: Request, template: str) -> Response:
    """The sign-in and sign-up forms; someone already signed in goes straight on."""
    target = _safe_next(request)
    if await auth.page_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return templates.TemplateResponse(request, template, {"page": template.removesuffix(".html"), "next": target})


def _safe_next(request: Request) -> str:
    """Only a path on this site, so a crafted link cannot send a fresh sign-in elsewhere."""
    target = request.query_params.get("next", "/")
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"
