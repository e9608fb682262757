"""The read-only web app: the board, LA and school pages, and JSON mirroring the CLI.

Every request carries a per-user token (`extramile users token EMAIL`): as a bearer header, or
once as `?token=` (then kept in a cookie). The user's role scopes what it sees, as on the CLI.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Column, LargeBinary, MetaData, String, Table, insert, select

from engine.bootstrap import Store, today_in
from engine.jsonable import to_jsonable
from engine.permissions import Principal

metadata = MetaData()
secrets = Table(
    "em_secrets", metadata,
    Column("name", String(32), primary_key=True),
    Column("value", LargeBinary(64), nullable=False),
)


def _secret(store: Store) -> bytes:
    metadata.create_all(store.engine)
    with store.engine.begin() as conn:
        found = conn.execute(select(secrets.c.value).where(secrets.c.name == "web")).scalar()
        if found is None:
            found = os.urandom(32)
            conn.execute(insert(secrets).values(name="web", value=found))
    return bytes(found)


def issue_token(store: Store, email: str) -> str:
    """A token for one user (it stops working when the user is revoked)."""
    email = email.lower()
    store.app.require_user(email)
    mac = hmac.new(_secret(store), email.encode(), hashlib.sha256).hexdigest()
    return base64.urlsafe_b64encode(email.encode()).decode().rstrip("=") + "." + mac


def principal_for(store: Store, token: str | None) -> Principal | None:
    if not token or "." not in token:
        return None
    encoded, mac = token.rsplit(".", 1)
    try:
        email = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    expected = hmac.new(_secret(store), email.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        return store.app.principal(email)
    except Exception:  # unknown or revoked: no access
        return None


def current_user(request: Request) -> Principal:
    """The request's user, from its token; 401 without a valid one."""
    store: Store = request.app.state.store
    header = request.headers.get("authorization", "")
    token = (header.removeprefix("Bearer ").strip() if header.startswith("Bearer ")
             else request.query_params.get("token") or request.cookies.get("extramile"))
    principal = principal_for(store, token)
    if principal is None:
        raise HTTPException(401, "a valid token is needed (extramile users token EMAIL)")
    store.projector.catch_up()
    store.app.keyring.clear_cache()  # a person forgotten by another process reads as erased
    return principal


User = Annotated[Principal, Depends(current_user)]


def create_app(store: Store) -> Any:
    """The FastAPI application over one opened store."""
    from engine.errors import Rejected, UnknownSubject
    from engine.permissions import Forbidden
    from engine.reports.board import COLOURS, _environment, board_context, render_board_html

    app = FastAPI(title="Extra Mile", description="Read-only compliance status: the board, "
                  "overdue lists, subject status and audit trails.", version="1")
    app.state.store = store

    def day(as_of: dt.date | None) -> dt.date:
        return as_of or today_in(store.timeline.timezone)

    def subject_row(principal: Principal, subject: str) -> dict[str, Any]:
        row = store.queries.subject(subject)
        principal.check_subject(row)
        return row

    @app.exception_handler(Rejected)
    async def rejected(request: Request, exc: Rejected) -> JSONResponse:
        code = 404 if isinstance(exc, UnknownSubject) else 403 if isinstance(
            exc, Forbidden) else 400
        return JSONResponse({"detail": str(exc)}, status_code=code)

    def page(html: str, request: Request) -> HTMLResponse:
        response = HTMLResponse(html)
        token = request.query_params.get("token")
        if token:
            response.set_cookie("extramile", token, httponly=True, samesite="strict")
        return response

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def board_page(request: Request, principal: User,
                   as_of: dt.date | None = None) -> HTMLResponse:
        context = board_context(store.queries, day(as_of), la=principal.la_scope)
        return page(render_board_html(context, links=True), request)

    @app.get("/la/{la}", response_class=HTMLResponse, include_in_schema=False)
    def la_page(request: Request, la: str, principal: User,
                as_of: dt.date | None = None) -> HTMLResponse:
        subject_row(principal, la)
        context = board_context(store.queries, day(as_of), la=la)
        return page(render_board_html(context, links=True), request)

    @app.get("/school/{school}", response_class=HTMLResponse, include_in_schema=False)
    def school_page(request: Request, school: str, principal: User,
                    as_of: dt.date | None = None) -> HTMLResponse:
        subject_row(principal, school)
        when = day(as_of)
        trail = [{**e, "payload_text": json.dumps(_jsonable(e["payload"]), ensure_ascii=False)}
                 for e in store.audit(school)]
        html = _environment().get_template("subject.html.j2").render(
            status=store.queries.status(school, when), audit=trail, as_of=when,
            colours=COLOURS)
        return page(html, request)

    @app.get("/api/overdue", summary="Overdue obligations (as `extramile overdue`)")
    def api_overdue(principal: User, as_of: dt.date | None = None,
                    responsible: Annotated[str | None, Query(pattern="^(dcsf|la|school)$")] = None,
                    la: str | None = None) -> list[dict[str, Any]]:
        scope = principal.la_scope
        if scope is not None and la not in (None, scope):
            raise Forbidden(principal.email, principal.role, f"read about {la}")
        keys = ["obligation", "subject", "responsible", "la", "due", "days_overdue"]
        items = store.queries.overdue(day(as_of), responsible, scope or la)
        return _jsonable([{k: i[k] for k in keys} for i in items])

    @app.get("/api/status/{subject}", summary="A subject's status (as `extramile status`)")
    def api_status(subject: str, principal: User,
                   as_of: dt.date | None = None) -> dict[str, Any]:
        subject_row(principal, subject)
        return _jsonable(store.queries.status(subject, day(as_of)))

    @app.get("/api/board", summary="The status board (as `extramile board --format json`)")
    def api_board(principal: User, as_of: dt.date | None = None) -> dict[str, Any]:
        return _jsonable(store.queries.board(day(as_of), la=principal.la_scope))

    @app.get("/api/audit/{subject}", summary="Audit trail (as `extramile audit`)")
    def api_audit(subject: str, principal: User) -> list[dict[str, Any]]:
        subject_row(principal, subject)
        return _jsonable(store.audit(subject))

    return app


def _jsonable(value: Any) -> Any:
    """The same JSON the CLI prints (dates as ISO strings)."""
    return to_jsonable(value)
