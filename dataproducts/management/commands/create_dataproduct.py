"""``manage.py create_dataproduct --template REF --values FILE --user NAME``: the wizard's creation from a
script, through the same service (validation, Git repository, catalog registration, undo on failure)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from core.yaml import YamlError, load
from dataproducts import selectors, services
from dataproducts.exceptions import CreationFailed, DataProductConflict, TemplateError, ValuesInvalid


def _values_load(text: str | bytes, *, source: str) -> dict:
    """The parameter values of ``--values FILE`` (YAML or JSON)."""
    values = load(text, source=source)
    if not isinstance(values, dict):
        raise ValuesInvalid({"": [f"{source} must hold a mapping of parameter values"]})
    return values


class Command(BaseCommand):
    help = "Create a data product from a template with values from a YAML or JSON file, as a user."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--template", required=True, help="Template entity ref, e.g. template:dataproduct")
        parser.add_argument("--values", required=True, help="YAML or JSON file with the parameter values")
        parser.add_argument("--user", required=True, help="Username of the creator (the Git author)")
        parser.add_argument("--dry-run", action="store_true", help="Validate and render only; print the files")

    def handle(self, *args, template: str, values: str, user: str, dry_run: bool, **options) -> None:
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"--user: no active user {user!r}")
        entity = selectors.template_get(ref=template)
        if entity is None:
            raise CommandError(f"--template: {template!r} is not a template from a trusted location")
        path = Path(values)
        try:
            parsed = _values_load(path.read_bytes(), source=str(path))
        except OSError as exc:
            raise CommandError(f"--values: cannot read {path}: {exc.strerror or exc}") from exc
        except YamlError as exc:
            raise CommandError(f"--values: {exc}") from exc
        except ValuesInvalid as exc:
            raise CommandError(f"--values: {exc}") from exc
        try:
            if dry_run:
                plan = services.dataproduct_preview(template=entity, values=parsed, actor=actor)
                for name, text in plan.files:
                    self.stdout.write(f"--- {name}\n{text}")
                self.stdout.write(f"{plan.id}: valid (dry run, nothing written)")
                return
            data_product = services.dataproduct_create(template=entity, values=parsed, actor=actor)
        except ValuesInvalid as exc:
            lines = [f"{path}: {message}" for path, messages in exc.errors.items() for message in messages]
            raise CommandError("invalid values:\n" + "\n".join(f"  {line}" for line in lines)) from exc
        except (TemplateError, DataProductConflict, CreationFailed, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {data_product.dp_id} ({data_product.name}) in {data_product.repository_url}")
        )
