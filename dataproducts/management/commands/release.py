"""``manage.py release <dp entity name> --draft | --promote [--version X.Y.Z] | --major [--notes TEXT] --user NAME``:
a release (or, for a breaking change, the product's next major version) from a script or a CI pipeline, through the
same service as the Releases tab and the API (refresh, gate, Git)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.errors import ServiceError
from dataproducts import selectors, services


def _validation_lines(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {message}" for field, messages in exc.message_dict.items() for message in messages]
    return list(exc.messages)


class Command(BaseCommand):
    help = "Make a draft release of a data product, or promote its latest draft to a stable release, as a user."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs):
        # --version is the release's here, not Django's own version
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The data product's entity name, e.g. finance.cashflow.0")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--draft", action="store_true", help="Freeze the product as a draft X.Y-SNAPSHOT-N")
        action.add_argument("--promote", action="store_true", help="Promote a draft to a stable release X.Y.Z")
        action.add_argument(
            "--major",
            action="store_true",
            help="Start major version N+1 (branch release/<N+1>, a data product of its own) for a breaking change",
        )
        parser.add_argument("--version", dest="release_version", help="The stable version (default: suggested)")
        parser.add_argument("--from", dest="draft_version", help="The draft to promote (default: the latest)")
        parser.add_argument("--notes", default="", help="Release notes")
        parser.add_argument("--user", required=True, help="Username of the person releasing (the Git author)")

    def handle(self, *args, name: str, draft: bool, major: bool, user: str, notes: str, **options) -> None:
        version, draft_version = options.get("release_version"), options.get("draft_version")
        if (draft or major) and (version or draft_version):
            raise CommandError("--version and --from go with --promote")
        if major and notes:
            raise CommandError("--notes goes with --draft and --promote")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"--user: no active user {user!r}")
        data_product = selectors.dataproduct_get(name=name)
        if data_product is None:
            raise CommandError(f"name: no data product {name!r} in the catalog")
        if major:
            self._major(data_product, actor)
            return
        try:
            if draft:
                release = services.release_draft_create(data_product=data_product, actor=actor, notes=notes)
            else:
                release = services.release_promote(
                    data_product=data_product, actor=actor, draft=draft_version, version=version, notes=notes
                )
        except services.BreakingChanges as exc:
            lines = "\n".join(f"  {change}" for change in exc.messages)
            raise CommandError(
                f"promotion refused: {exc.summary}; create the data product's major version {exc.next_major}:\n{lines}"
            ) from exc
        except ValidationError as exc:
            lines = "\n".join(f"  {line}" for line in _validation_lines(exc))
            raise CommandError(f"release refused:\n{lines}") from exc
        except (ServiceError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Released {data_product.name} {release.version} ({release.kind}) at commit {release.commit[:7]}"
                + (f", tagged v{release.version}" if release.is_stable else "")
            )
        )

    def _major(self, data_product, actor) -> None:
        try:
            made = services.release_major_create(data_product=data_product, actor=actor)
        except ValidationError as exc:
            lines = "\n".join(f"  {line}" for line in _validation_lines(exc))
            raise CommandError(f"major version refused:\n{lines}") from exc
        except (ServiceError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Made {made.name} ({made.dp_id}), major version {made.major} of {data_product.name}, on branch "
                f"release/{made.major}"
            )
        )
