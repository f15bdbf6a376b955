"""Where a data product's files live in its repository, and on which branch (PRODUCT §4.2): its
``catalog-info.yaml`` (the System and the Location of its components), ``components/<name>/``,
``environments/<env>/configurations.yaml`` and ``releases/<version>/`` (what each release froze).

The branch is the one the product's location reads: a product reads from ``main`` today, and a new major will
live on ``release/<major>``, so every write goes to the branch its layout names, never to a fixed one."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from catalog.models import Entity
from catalog.readers import parse_git_target
from dataproducts.gitops.provider import DEFAULT_BRANCH

CATALOG_FILE = "catalog-info.yaml"
COMPONENTS_FOLDER = "components"
ENVIRONMENTS_FOLDER = "environments"
CONFIGURATIONS_FILE = "configurations.yaml"
RELEASES_FOLDER = "releases"


def release_descriptor_file(environment: str) -> str:
    """The frozen descriptor of ``environment`` in a release's folder."""
    return f"descriptor-{environment}.yaml"


def environment_folder(environment: str) -> str:
    """The folder of an environment's values, next to an entity's file."""
    return f"{ENVIRONMENTS_FOLDER}/{environment}"


def environment_file(environment: str) -> str:
    """The values of ``environment``, next to an entity's file: deep-merged into ``spec.mesh.specific`` of the
    descriptor (PRODUCT §4.3)."""
    return f"{environment_folder(environment)}/{CONFIGURATIONS_FILE}"


def components_location(entity_name: str, targets: list[str] | tuple[str, ...] = ()) -> str:
    """The Location document that lists a data product's components, as appended to its ``catalog-info.yaml``."""
    listed = "".join(f"\n    - {target}" for target in targets) if targets else " []"
    return (
        "---\n"
        "# The components of this data product: Meshforge adds and removes targets as components come and go.\n"
        "apiVersion: backstage.io/v1alpha1\n"
        "kind: Location\n"
        "metadata:\n"
        f"  name: {entity_name}.components\n"
        "spec:\n"
        f"  targets:{listed}\n"
    )


@dataclass(frozen=True)
class ProductLayout:
    """A data product's repository, the branch its location reads, and the path of its ``catalog-info.yaml``;
    every other path of the product is relative to that file's folder."""

    repository: str
    branch: str = DEFAULT_BRANCH
    catalog_path: str = CATALOG_FILE

    @classmethod
    def of(cls, entity: Entity) -> ProductLayout:
        """The layout of an existing product, from the target its System entity was read from (a target
        without a branch reads the repository's default branch, which Meshforge creates as ``main``).
        Raises ``InvalidTarget`` for an entity not read from Git."""
        parsed = parse_git_target(entity.source_target)
        return cls(repository=parsed.repository, branch=parsed.branch or DEFAULT_BRANCH, catalog_path=parsed.path)

    @property
    def folder(self) -> str:
        """The product's folder inside the repository (``""`` at the root)."""
        return posixpath.dirname(self.catalog_path)

    @property
    def target(self) -> str:
        """The ``git`` location target that reads the product's ``catalog-info.yaml`` on its branch."""
        return f"{self.repository}#{self.branch}:{self.catalog_path}"

    @property
    def releases_folder(self) -> str:
        return posixpath.join(self.folder, RELEASES_FOLDER)

    def release_folder(self, version: str) -> str:
        """Where a draft release freezes the product: its descriptors (``descriptor-<env>.yaml``) and a copy of the
        environment files, laid out as in the product (``environments/…``, ``components/<slug>/environments/…``)."""
        return posixpath.join(self.releases_folder, version)

    def component_folder(self, slug: str) -> str:
        return posixpath.join(self.folder, COMPONENTS_FOLDER, slug)

    def component_target(self, folder: str) -> str:
        """The target, relative to ``catalog-info.yaml``, by which the components Location lists the component
        kept in ``folder``."""
        return "./" + posixpath.relpath(posixpath.join(folder, CATALOG_FILE), self.folder or ".")
