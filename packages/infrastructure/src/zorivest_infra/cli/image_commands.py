"""``zorivest image delete|export`` and ``zorivest thumbnail``: one stored screenshot.

Delete it, get its original bytes back, or write a WebP thumbnail of it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from zorivest_core.application.use_cases import corrections
from zorivest_core.domain.errors import NotFoundError
from zorivest_infra.cli.confirm import Yes, confirm_or_refuse
from zorivest_infra.cli.errors import CliError, ExitCode, handle_errors
from zorivest_infra.cli.groups import command_group
from zorivest_infra.cli.options import JournalOrUrl, PassphraseFile, Url, positional
from zorivest_infra.cli.out_files import checked_output, write_private_file
from zorivest_infra.cli.render import safe
from zorivest_infra.cli.target import open_journal, open_unit_of_work, resolve

image_app = command_group("Delete or export a stored screenshot.")

ImageId = Annotated[str | None, positional("IMAGE_ID", "The image's id (see `zorivest images`).")]
Force = Annotated[bool, typer.Option("--force", help="Replace OUT if it already exists.")]


def _image_id(raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise CliError(f"IMAGE_ID must be a number (got {raw!r})", ExitCode.USAGE) from None


@image_app.command("delete")
@handle_errors
def delete(
    *,
    journal: JournalOrUrl = None,
    image_id: ImageId = None,
    yes: Yes = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Delete one image (asks first unless --yes)."""
    target, (raw_id,) = resolve(journal, url, [image_id], ["IMAGE_ID"])
    identifier = _image_id(raw_id)
    with open_journal(target, passphrase_file) as opened:
        with opened.unit_of_work(read_only=True) as uow:
            image = corrections.image_without_data(uow, identifier)
        confirm_or_refuse(f"image {identifier} of {image.owner_type} {image.owner_id}", yes=yes)
        with opened.unit_of_work() as uow:
            corrections.delete_image(uow, identifier)
    typer.echo(safe(f"Deleted image {identifier} of {image.owner_type} {image.owner_id}."))


@image_app.command("export")
@handle_errors
def export(
    *,
    journal: JournalOrUrl = None,
    image_id: ImageId = None,
    out: Annotated[str | None, positional("OUT", "Where to write the original image.")] = None,
    force: Force = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write an image's original bytes, exactly as attached, to OUT (mode 0600).

    An existing OUT is refused unless --force is given (the journal itself always).
    """
    target, (raw_id, out_name) = resolve(journal, url, [image_id, out], ["IMAGE_ID", "OUT"])
    identifier = _image_id(raw_id)
    out_path = checked_output(out_name, target, force=force)
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        image = uow.images.get(identifier)
    if image is None or image.data is None:
        raise NotFoundError(f"no image with id {identifier}")
    write_private_file(out_path, image.data, replace=force)
    typer.echo(
        safe(f"Wrote {out_path} ({len(image.data):,} bytes, {image.mime_type}, as attached).")
    )


@handle_errors
def thumbnail(
    *,
    journal: JournalOrUrl = None,
    image_id: Annotated[str | None, positional("IMAGE_ID", "The image's id.")] = None,
    out: Annotated[str | None, positional("OUT", "Where to write the WebP thumbnail.")] = None,
    size: Annotated[
        int, typer.Option("--size", min=1, max=4096, help="Longest side in pixels.")
    ] = 200,
    force: Force = False,
    url: Url = None,
    passphrase_file: PassphraseFile = None,
) -> None:
    """Write a WebP thumbnail of an image (its sides at most --size pixels).

    OUT is created with mode 0600 and never half-written; an existing OUT is refused unless
    --force is given (the journal itself is always refused).
    On a server database: `zorivest thumbnail --url URL IMAGE_ID OUT`
    """
    target, (raw_id, out_name) = resolve(journal, url, [image_id, out], ["IMAGE_ID", "OUT"])
    identifier = _image_id(raw_id)
    out_path = checked_output(out_name, target, force=force)
    with open_unit_of_work(target, passphrase_file, read_only=True) as uow:
        webp = uow.images.get_thumbnail(identifier, max_size=size)
    write_private_file(out_path, webp, replace=force)
    typer.echo(safe(f"Wrote {out_path} ({len(webp):,} bytes, WebP, at most {size}x{size})."))
