"""The local read-only web app."""

from __future__ import annotations

import click

from cli.main import AppContext

pass_app = click.make_pass_decorator(AppContext)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (localhost only by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@pass_app
def serve(app: AppContext, host: str, port: int) -> None:
    """Serve the board, LA and school pages and JSON endpoints (OpenAPI at /docs), read-only.

    Every request needs a user's token: 'extramile users token EMAIL'; open
    http://HOST:PORT/?token=TOKEN once in a browser.
    """
    import uvicorn

    from engine.web import create_app

    app.require("read")
    click.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)", err=True)
    uvicorn.run(create_app(app.store), host=host, port=port, log_level="warning")


COMMANDS = [serve]
