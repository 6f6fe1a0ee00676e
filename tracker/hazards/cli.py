"""`flask import-hazards FILE --kind KIND`: load a national hazard layer."""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from tracker.core.errors import BadInput
from tracker.hazards.codes import LAYERS


def init_app(app: Flask) -> None:
    """Register the command."""
    app.cli.add_command(import_hazards_command)


@click.command("import-hazards")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    "layer",
    type=click.Choice(list(LAYERS)),
    required=True,
    help="sediment: 土砂災害警戒区域 (A33); flood: 洪水浸水想定区域 (A31).",
)
def import_hazards_command(file: Path, layer: str) -> None:
    """Replace a hazard layer with the zones of a zipped Shapefile as published."""
    from tracker.hazards.loading import MAX_HAZARD_FILE_BYTES, load_hazard_file

    if file.stat().st_size > MAX_HAZARD_FILE_BYTES:
        raise click.ClickException(
            f"{file.name}: 大きすぎます（{MAX_HAZARD_FILE_BYTES >> 20} MB まで）"
        )
    with current_app.extensions["db_sessionmaker"]() as session:
        try:
            result = load_hazard_file(session, file.read_bytes(), file.name, layer)
        except BadInput as exc:
            session.rollback()
            raise click.ClickException(str(exc)) from None
        session.commit()
    for note in result.notes:
        click.echo(note)
    click.echo(
        f"{LAYERS[layer]}: 区域 {result.read} のうち市にかかる {result.kept} を読み込みました"
        + (f"（形を修正したもの {result.repaired}）" if result.repaired else "")
    )
