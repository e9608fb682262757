"""Writing: init, import, record, projections rebuild."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli.logs import get_logger
from cli.main import AppContext
from cli.progress import progress_bar

pass_app = click.make_pass_decorator(AppContext)


@click.command()
@click.option("--admin", required=True, metavar="EMAIL", help="The first user, an admin.")
@pass_app
def init(app: AppContext, admin: str) -> None:
    """Create a new store and register its first (admin) user.

    Refuses a store that already exists.  Example: extramile init --admin office@dcsf.test
    """
    from engine.bootstrap import init_store

    with init_store(admin, app.db, app.timeline) as store:
        click.echo(f"created store {store.url.split('///')[-1]} with admin {admin.lower()}")


@click.command("import")
@click.argument("file", type=click.File("rb"))
@pass_app
def import_(app: AppContext, file: Any) -> None:
    """Apply a JSON Lines file of commands (FILE or - for stdin), all or nothing.

    On any rejected line every rejected line is reported (line, command, reason) and nothing
    is stored.  Example: extramile import programme.jsonl
    """
    from engine.application import BatchRejected
    from engine.importing import CommandFile

    user = app.require_user()
    name = getattr(file, "name", "-")
    store = app.store
    with CommandFile(file) as commands, progress_bar(commands.lines, "importing") as advance:
        try:
            count = store.execute(commands, user, progress=advance)
        except BatchRejected as rejected:
            _report(name, rejected.errors)
    get_logger().info("import.done", file=name, commands=count)
    click.echo(f"imported {count} commands from {name}")


def _report(name: str, errors: list[Any]) -> None:
    for error in errors:
        click.echo(f"{name}: {error}", err=True)
    n = len(errors)
    raise click.ClickException(f"{name}: {n} rejected line{'s' if n != 1 else ''}; "
                               "nothing stored")


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("cmd")
@click.option("--on", "on", required=True, metavar="YYYY-MM-DD", help="Business date.")
@click.option("--by", "by", required=True, metavar="EMAIL", help="Who did it.")
@click.option("--data", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON object file with the command's other fields.")
@click.pass_context
def record(ctx: click.Context, cmd: str, on: str, by: str, data: Path | None) -> None:
    """Record one command with the same validation as import.

    Other fields go as --field value (JSON values are parsed where the field is not text), or
    in --data FILE.json.

    Example: extramile record school.lead_appointed --on 2009-07-01 --by head@t001.test
    --school T001 --name "A Head" --email lead@t001.test
    """
    from engine.commands import COMMANDS, CommandError, parse_command

    app: AppContext = ctx.obj
    user = app.require_user()
    fields: dict[str, Any] = {}
    if data is not None:
        raw = data.read_bytes()
        try:
            loaded = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"{data}: not UTF-8 text: byte 0x{raw[exc.start]:02x} "
                                       f"at offset {exc.start}") from None
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{data}: not valid JSON: {exc.msg} at line "
                                       f"{exc.lineno}") from None
        except RecursionError:
            raise click.ClickException(f"{data}: not usable JSON: nested too deeply") from None
        if not isinstance(loaded, dict):
            raise click.ClickException(f"{data}: expected a JSON object")
        fields.update(loaded)
    fields.update(_extra_fields(ctx.args, COMMANDS.get(cmd)))
    try:
        command = parse_command({"cmd": cmd, "on": on, "by": by, **fields})
    except CommandError as exc:
        raise click.ClickException(f"{cmd}: {exc}") from None
    app.store.execute([(1, command)], user)
    click.echo(f"recorded {cmd} for {command.about} on {command.on}")


def _extra_fields(args: list[str], model: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    it = iter(args)
    for arg in it:
        if not arg.startswith("--") or len(arg) < 3:
            raise click.UsageError(f"unexpected argument {arg!r} (fields go as --name value)")
        name, _, value = arg[2:].partition("=")
        if not _:
            value = next(it, None)
            if value is None:
                raise click.UsageError(f"--{name} needs a value")
        fields[name.replace("-", "_")] = _field_value(model, name.replace("-", "_"), value)
    return fields


def _field_value(model: Any, name: str, value: str) -> Any:
    known = model is not None and name in model.model_fields
    annotation = model.model_fields[name].annotation if known else None
    if annotation is str or getattr(annotation, "__name__", "") == "str":
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


@click.group()
def projections() -> None:
    """Maintain the read model (status boards, overdue lists) built from the events."""


@projections.command()
@pass_app
def rebuild(app: AppContext) -> None:
    """Rebuild every projection from the event log (same answers as before)."""
    app.require("rebuild", "rebuild projections")
    store = app.store
    total = store.app.recorder.max_notification_id() or 0
    store.projector.reset()
    with progress_bar(total, "rebuilding") as advance:
        applied = store.projector.catch_up(progress=advance)
    click.echo(f"rebuilt the read model from {applied} events")


COMMANDS = [init, import_, record, projections]

