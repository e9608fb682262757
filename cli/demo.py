"""The demo: a realistic programme in a fresh store, shown as of 2010-02-15."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cli.main import AppContext

DEMO_DAY = dt.date(2010, 2, 15)
DEMO_USER = "office@extramile.dcsf.test"


@click.command()
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=Path("demo-store"), show_default=True,
              help="Folder for the demo store (a previous demo there is replaced).")
@click.option("--las", default=9, show_default=True, type=click.IntRange(1, 5000),
              help="How many LAs (clusters of 4 trial + 1 partner school).")
@click.option("--seed", default=2009, show_default=True, help="Random seed of the programme.")
@click.pass_context
def demo(ctx: click.Context, folder: Path, las: int, seed: int) -> None:
    """Create a demo store, load a generated realistic programme (late, missing, withdrawn,
    extended and waived cases) and show the board, the overdue list and the reminders due,
    as of 2010-02-15."""
    from cli.queries import board, overdue
    from cli.reminders import remind
    from engine.bootstrap import init_store
    from engine.commands import parse_command
    from engine.demo_data import generate

    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "extramile.db"
    for leftover in folder.glob("extramile.db*"):
        leftover.unlink()
    programme = folder / "programme.jsonl"
    commands = generate(las=las, seed=seed)
    programme.write_text("".join(_json_line(c) for c in commands), encoding="utf-8")
    with init_store(DEMO_USER, url=str(db)) as store:
        store.execute([(n, parse_command(c)) for n, c in enumerate(commands, 1)], DEMO_USER)
    click.echo(f"Demo store {db}: {len(commands)} commands from {programme} "
               f"({las} LAs), as of {DEMO_DAY}\n")
    app = AppContext(str(db), DEMO_USER, ctx.obj.timeline if ctx.obj else None)
    ctx.obj = app
    ctx.call_on_close(app.close)
    as_of = dt.datetime.combine(DEMO_DAY, dt.time())
    ctx.invoke(board, as_of=as_of, fmt="table")
    page = folder / "board.html"
    ctx.invoke(board, as_of=as_of, fmt="html", output=page)
    click.echo()
    ctx.invoke(overdue, as_of=as_of, fmt="table", responsible=None, la=None)
    click.echo()
    ctx.invoke(remind, as_of=as_of, dry_run=True, fmt="table")
    click.echo(
        f"\nExplore further:  export EXTRAMILE_DATABASE_URL={db} EXTRAMILE_USER={DEMO_USER}\n"
        f"  extramile status T001 --as-of {DEMO_DAY}    extramile audit T001\n"
        f"  extramile overdue --as-of 2010-09-30 --format json    extramile --help\n"
        f"  open {page.resolve()} in a browser, or run: extramile serve")


def _json_line(command: dict) -> str:
    import json

    return json.dumps(command) + "\n"


COMMANDS = [demo]
