"""``manage.py validate_descriptor [--adapter-ready] FILE…``: check DPS descriptor files (bare, or the tech adapter
wrapper ``{dataProduct, componentIdToProvision}``), print every problem, and exit non-zero when any file is invalid.

Without the flag the check is the lenient reading of PRODUCT §4.3 (what real platforms send); with it, the strict
one that every descriptor Meshforge writes must pass (what the public Witboost tech adapters accept)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from core.yaml import YamlError, load_file
from dataproducts.descriptor.adapter import descriptor_adapter_problems
from dataproducts.descriptor.validate import component_descriptor_validate


class Command(BaseCommand):
    help = (
        "Validate Data Product Specification descriptors (a bare descriptor or {dataProduct, componentIdToProvision}). "
        "Prints 'FILE: path: message' per problem or 'FILE: valid'; exits 1 when any file is invalid."
    )

    # Checking files needs neither the database nor the URL configuration: run without system checks, as a linter.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="descriptor files (YAML or JSON)")
        parser.add_argument(
            "--adapter-ready",
            action="store_true",
            help="also require what the Witboost tech adapters' models require (semanticLinking on output ports, "
            "connectionType on workloads, useCaseTemplateId on components, tag labels, column sizes…)",
        )

    def handle(self, *args, **options):
        invalid = 0
        for name in options["files"]:
            problems = descriptor_file_problems(path=name, adapter_ready=options["adapter_ready"])
            for problem in problems:
                self.stdout.write(f"{name}: {problem}")
            if problems:
                invalid += 1
            else:
                self.stdout.write(f"{name}: valid")
        if invalid:
            raise CommandError(f"{invalid} of {len(options['files'])} descriptor files are invalid", returncode=1)


def descriptor_file_problems(*, path: str, adapter_ready: bool = False) -> list[str]:
    """The problems of one descriptor file, strict when ``adapter_ready``; a file that cannot be read or parsed is
    one problem, not a crash."""
    try:
        document = load_file(path)
    except YamlError as exc:
        where = "yaml" if exc.line is None else f"line {exc.line}"
        if exc.line is not None and exc.column is not None:
            where += f", column {exc.column}"
        return [f"{where}: {exc.problem}"]
    except OSError as exc:
        return [f"file: cannot be read ({exc.strerror or exc})"]
    return descriptor_adapter_problems(document) if adapter_ready else component_descriptor_validate(document)
