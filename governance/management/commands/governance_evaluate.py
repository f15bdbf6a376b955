"""``manage.py governance_evaluate FILE --environment ENV [--policy POLICY_FILE …] [--previous FILE]``: the gate's
verdict on a descriptor file, for a CI pipeline before anything is pushed. With ``--policy`` the given policy files
are the policies and the database is not read; selector, lifecycle and environments apply as on the gate. Prints
each result with its messages; exits 1 only when an applicable ``enabled`` ``error`` policy fails."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.yaml import YamlError, load_file
from governance.policyfiles import PolicyFileError, policies_read_files
from governance.services import descriptor_evaluate


def descriptor_file_read(path: str, *, option: str = "FILE") -> dict:
    """A descriptor file's document (a mapping), or CommandError naming the file."""
    try:
        document = load_file(path)
    except YamlError as exc:
        raise CommandError(f"{option} {path}: {exc}") from None
    except OSError as exc:
        raise CommandError(f"{option} {path}: cannot be read ({exc.strerror or exc})") from None
    if not isinstance(document, dict):
        raise CommandError(f"{option} {path}: a descriptor is a mapping (the data product's fields)")
    return document


class Command(BaseCommand):
    help = (
        "Evaluate the applicable policies (stored, or the --policy files) against a descriptor in one environment. "
        "Exits 1 when an enabled error policy fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE", help="the data product's descriptor (YAML or JSON)")
        parser.add_argument("--environment", required=True, help=f"one of {', '.join(settings.MESHFORGE_ENVIRONMENTS)}")
        parser.add_argument(
            "--policy",
            action="append",
            default=[],
            metavar="POLICY_FILE",
            help="a policy file (one YAML document per policy); repeat for more. Without it, the stored policies.",
        )
        parser.add_argument("--previous", metavar="FILE", help="the previous stable release's descriptor")

    def handle(self, *args, file: str, environment: str, policy: list[str], previous: str | None, **options):
        if environment not in settings.MESHFORGE_ENVIRONMENTS:
            raise CommandError(
                f"--environment: {environment!r} is not an environment; known: "
                f"{', '.join(settings.MESHFORGE_ENVIRONMENTS)}"
            )
        descriptor = descriptor_file_read(file)
        before = descriptor_file_read(previous, option="--previous") if previous else None
        policies = None
        if policy:
            try:
                policies = policies_read_files(policy)
            except PolicyFileError as exc:
                raise CommandError(f"--policy {exc}") from None
        runs = descriptor_evaluate(descriptor=descriptor, environment=environment, policies=policies, previous=before)
        if not runs:
            self.stdout.write(f"No policy applies to {file} in {environment}.")
        for run in runs:
            label = "BLOCKS" if run.blocking else run.outcome.upper()
            self.stdout.write(f"{label} {run.where()} [{run.policy.lifecycle}, {run.severity}]")
            for finding in run.findings:
                where = f"{finding.path}: " if finding.path else ""
                self.stdout.write(f"    {finding.severity}: {where}{finding.message}")
        blocking = [run for run in runs if run.blocking]
        if blocking:
            raise CommandError(
                f"{len(blocking)} enabled error polic{'y' if len(blocking) == 1 else 'ies'} failed: "
                + ", ".join(sorted({run.policy.name for run in blocking})),
                returncode=1,
            )
