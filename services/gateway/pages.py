"""The web page: server-rendered shells (jinja2) for the new-job form, the Job History and a job's
document; small ES modules in web/static talk to the same /v1 API as every other client, signed in
by the session cookie. A page asked for without a session sends the browser to /login."""

import uuid
from pathlib import Path
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from services.gateway import auth, store
from services.gateway.recorded import reads_of

WEB = Path(__file__).parent / "web"
templates = Jinja2Templates(directory=WEB / "templates")
router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    return StaticFiles(directory=WEB / "static")


async def _signed_in(request: Request, template: str, **context) -> Response:
    if await auth.page_user(request) is None:
        return _to_login(request)
    return _page(request, template, **context)


def _to_login(request: Request) -> Response:
    asked = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(asked, safe='/')}", status_code=303)


def _page(request: Request, template: str, status_code: int = 200, **context) -> Response:
    return templates.TemplateResponse(request, template, {"page": template.removesuffix(".html"), **context},
                                      status_code=status_code)


@router.get("/")
async def new_job(request: Request) -> Response:
    """The form knows the server's limits, so the page refuses a file that is too large or of the
    wrong type before uploading it (the server checks again)."""
    settings = request.app.state.settings
    return await _signed_in(request, "new_job.html", max_source_bytes=settings.max_source_bytes,
                            max_body_bytes=settings.max_body_bytes)


@router.get("/jobs")
async def job_history(request: Request) -> Response:
    return await _signed_in(request, "history.html")


@router.get("/jobs/{job_id}")
async def job_page(job_id: uuid.UUID, request: Request) -> Response:
    """Another user's job is answered like an unknown one: 404, nothing of it on the page."""
    user_id = await auth.page_user(request)
    if user_id is None:
        return _to_login(request)
    if await store.job_view(reads_of(request), user_id, job_id) is None:
        return _page(request, "not_found.html", status_code=404)
    return _page(request, "job.html", job_id=str(job_id))


@router.get("/jobs/{job_id}/llm-calls/{seq}")
async def llm_call_page(job_id: uuid.UUID, seq: int, request: Request) -> Response:
    """One LLM call of the job, whole; another user's job is answered like an unknown one."""
    user_id = await auth.page_user(request)
    if user_id is None:
        return _to_login(request)
    if await store.job_view(reads_of(request), user_id, job_id) is None:
        return _page(request, "not_found.html", status_code=404)
    return _page(request, "llm_call.html", job_id=str(job_id), seq=seq)


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    """Browsers ask for it whatever the page links; the one icon, as SVG (which they all draw)."""
    return FileResponse(WEB / "static" / "favicon.svg", media_type="image/svg+xml",
                        headers={"Cache-Control": "public, max-age=86400"})


@router.get("/login")
async def login(request: Request) -> Response:
    return await _signed_out(request, "login.html")


@router.get("/signup")
async def signup(request: Request) -> Response:
    return await _signed_out(request, "signup.html")


async def _signed_out(request: Request, template: str) -> Response:
    """The sign-in and sign-up forms; someone already signed in goes straight on."""
    target = safe_next(request.query_params.get("next", "/"))
    if await auth.page_user(request) is not None:
        return RedirectResponse(target, status_code=303)
    return _page(request, template, next=target)


def safe_next(target: str) -> str:
    """`target` if it is a path on this site, else "/": so a crafted link cannot send a fresh
    sign-in elsewhere. A path has one leading "/" (not "//" or "/\\", which browsers read as
    another host), and only printable ASCII without backslashes, judged both as given and once
    more percent-decoded (a tab, newline or unicode slash is stripped or reinterpreted by a
    browser's URL parser; "/%2F" decodes to "//")."""
    return target if all(_home_path(form) for form in (target, unquote(target))) else "/"


def _home_path(target: str) -> bool:
    return (target.startswith("/") and not target.startswith(("//", "/\\"))
            and all("\x21" <= character <= "\x7e" and character != "\\" for character in target))
