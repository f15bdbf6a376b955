"""Reads owned by the Builder: templates (catalog entities from trusted locations), data products and their
components (projections), who may write them, their descriptor per environment and their Git history."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, QuerySet, Subquery
from django.db.models.functions import Coalesce

from catalog.models import Entity
from catalog.readers import InvalidTarget, ReadError, parse_git_target
from catalog.refs import RefError, parse_ref
from catalog.selectors import entities_by_kind, entities_source_files
from catalog.teams import teams_may_write
from core.yaml import YamlError, dump, load
from dataproducts.choices import ReleaseKind
from dataproducts.descriptor.build import descriptor_build
from dataproducts.descriptor.validate import descriptor_validate
from dataproducts.gitops.provider import DEFAULT_BRANCH, Commit, GitProviderError, RepositoryNotWritable, git_provider
from dataproducts.layout import (
    COMPONENTS_FOLDER,
    CONFIGURATIONS_FILE,
    ProductLayout,
    environment_file,
    environment_folder,
)
from dataproducts.models import Component, DataProduct, DataProductIdentity, Domain, Release

# --- templates -------------------------------------------------------------------------------------------


def _templates(kind: str) -> QuerySet[Entity]:
    # templates carry code (a skeleton): only trusted locations may provide them (PRODUCT §4.1)
    return entities_by_kind(kind=kind, trusted_only=True)


def _has_nul(*values: str | None) -> bool:
    """PostgreSQL text cannot hold NUL: a lookup with one raises DataError (HTTP 500) instead of finding nothing."""
    return any(value and "\x00" in value for value in values)


def template_list(*, type: str | None = None, search: str = "") -> list[Entity]:
    """Usable templates (``kind: Template`` from trusted locations, without errors), by title."""
    if _has_nul(type, search):
        return []
    queryset = _templates("template").filter(has_errors=False)
    if type:
        queryset = queryset.filter(document__spec__type=type)
    if search:
        queryset = queryset.filter(search_text__contains=search.lower().strip())
    return sorted(queryset, key=lambda entity: (entity.title.lower(), entity.name))


def template_get(*, ref: str, kind: str = "template") -> Entity | None:
    if _has_nul(ref, kind):
        return None
    try:
        parsed = parse_ref(ref, default_kind=kind)
    except RefError:
        return None
    if parsed.kind.lower() != kind.lower():
        return None
    return _templates(kind).filter(ref=parsed.key).first()


def edit_template_for(*, entity: Entity) -> Entity | None:
    """The EditTemplate whose ``spec.useCaseTemplateId`` is the entity's ``spec.mesh.useCaseTemplateId``."""
    mesh = entity.spec.get("mesh")
    use_case = mesh.get("useCaseTemplateId") if isinstance(mesh, dict) else None
    if not isinstance(use_case, str) or not use_case:
        return None
    return (
        _templates("edittemplate")
        .filter(has_errors=False, document__spec__useCaseTemplateId=use_case)
        .order_by("name")
        .first()
    )


# --- data products ---------------------------------------------------------------------------------------


def dataproduct_may_write(*, data_product: DataProduct, user) -> bool:
    """Staff, and the data product's owners: the members of its owner team or of its dev group (PRODUCT §8)."""
    return teams_may_write(owner_refs=[data_product.owner_ref, data_product.dev_group_ref], user=user)


def user_team_refs(*, user) -> list[str]:
    """The owner refs a user may create under: their teams (staff: every Group entity and Django group)."""
    if user is None or not user.is_authenticated:
        return []
    names = {name.lower() for name in user.groups.values_list("name", flat=True)}  # refs are case-insensitive
    if user.is_staff:
        from django.contrib.auth.models import Group

        names |= {name.lower() for name in Group.objects.values_list("name", flat=True)}
        refs = {f"group:{name}" for name in names if "/" not in name}
        refs |= {
            f"group:{name}" if namespace == "default" else f"group:{namespace}/{name}"
            for namespace, name in entities_by_kind(kind="group").values_list("namespace", "name")
        }
        return sorted(refs)
    return sorted(f"group:{name}" for name in names)


def dataproduct_list(*, user, filters: dict | None = None) -> QuerySet[DataProduct]:
    """Data products, newest definition first; ``filters`` go through ``DataProductFilterSet``."""
    queryset = DataProduct.objects.select_related("entity").order_by("name")
    if filters is not None:
        from dataproducts.filtersets import DataProductFilterSet

        queryset = DataProductFilterSet(filters, queryset=queryset, request_user=user).qs
    return queryset


def dataproduct_get(*, name: str) -> DataProduct | None:
    if _has_nul(name):
        return None
    return (
        DataProduct.objects.select_related("entity", "entity__location")
        .prefetch_related(
            Prefetch(
                "components",
                queryset=Component.objects.select_related("entity", "entity__location").order_by("name"),
            )
        )
        .filter(name=name)
        .first()
    )


def component_get(*, name: str) -> Component | None:
    if _has_nul(name):
        return None
    return Component.objects.select_related("entity", "entity__location", "data_product").filter(name=name).first()


def component_list() -> QuerySet[Component]:
    return Component.objects.select_related("entity", "data_product").order_by("name")


def domain_list(*, with_counts: bool = False) -> QuerySet[Domain]:
    """Domains by name; ``with_counts`` adds ``dp_count``, their data products (one query for the whole list)."""
    domains = Domain.objects.select_related("entity").order_by("name")
    if not with_counts:
        return domains
    dp_count = (
        DataProduct.objects.filter(domain_name=OuterRef("name"))
        .order_by()
        .values("domain_name")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return domains.annotate(dp_count=Coalesce(Subquery(dp_count, output_field=IntegerField()), 0))


def domain_get(*, name: str) -> Domain | None:
    if _has_nul(name):
        return None
    return Domain.objects.select_related("entity", "entity__location").filter(name=name).first()


# --- descriptor ------------------------------------------------------------------------------------------


@dataclass
class DescriptorView:
    environment: str
    descriptor: dict
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    @cached_property
    def yaml(self) -> str:
        """The descriptor as YAML, written when a page or a download asks (the gate and the test bench never do,
        and writing it was most of the cost of a descriptor)."""
        return dump(self.descriptor)


def environment_configurations(*, entities: list[Entity], environment: str) -> tuple[dict[str, dict], list[str]]:
    """The mapping in ``environments/<env>/configurations.yaml`` next to each entity's file (by entity name;
    ``{}`` when there is none), read at the commit the entity was read at (one read per repository), and the
    problems met reading them."""
    configurations, _texts, problems = _environment_read(entities, environment, None)
    return configurations, problems


def _environment_read(
    entities: list[Entity], environment: str, at: tuple[str, str] | None
) -> tuple[dict[str, dict], dict[str, str], list[str]]:
    """The configurations by entity name, the files' texts as they are (those that exist), and the problems. ``at``
    = (repository, commit) reads the entities of that repository at that commit (a release freezes the product as
    of one commit); the others at the commit each was read at."""
    folder = environment_folder(environment)
    configurations: dict[str, dict] = {}
    texts: dict[str, str] = {}
    problems: list[str] = []
    found = _entities_files(entities, folder, at)
    for entity in entities:
        files = found[entity.pk]
        if isinstance(files, ReadError):
            configurations[entity.name], problem = {}, f"{entity.name}: {folder}: {files}"
        else:
            configurations[entity.name], problem = _configuration_load(entity, environment, files)
            if CONFIGURATIONS_FILE in files:
                texts[entity.name] = files[CONFIGURATIONS_FILE].decode("utf-8", errors="replace")
        problems += [problem] if problem else []
    return configurations, texts, problems


def _entities_files(
    entities: list[Entity], folder: str, at: tuple[str, str] | None
) -> dict[int, dict[str, bytes] | ReadError]:
    if at is None:
        return entities_source_files(entities=entities, folder=folder)
    repository, revision = at
    here, elsewhere = [], []
    for entity in entities:
        try:
            same = parse_git_target(entity.source_target).repository == repository
        except InvalidTarget:
            same = False
        (here if same else elsewhere).append(entity)
    found = entities_source_files(entities=here, folder=folder, revision=revision) if here else {}
    return found | (entities_source_files(entities=elsewhere, folder=folder) if elsewhere else {})


def _configuration_load(entity: Entity, environment: str, files: dict[str, bytes]) -> tuple[dict, str | None]:
    content = files.get(CONFIGURATIONS_FILE)
    if content is None:
        return {}, None
    source = f"{entity.name}: {environment_file(environment)}"
    try:
        loaded = load(content, source=source)
    except YamlError as exc:
        return {}, str(exc)
    if loaded is None:
        return {}, None
    if not isinstance(loaded, dict):
        return {}, f"{source}: must be a mapping"
    return loaded, None


def _descriptor_parts(data_product: DataProduct) -> tuple[list[Component], list[Entity]]:
    components = [component for component in data_product.components.all() if not component.orphan]
    return components, [data_product.entity, *(component.entity for component in components)]


def dataproduct_descriptor(*, data_product: DataProduct, environment: str) -> DescriptorView:
    """The DPS descriptor of a data product in one environment (PRODUCT §4.3), its YAML and its problems."""
    _components, entities = _descriptor_parts(data_product)
    configurations, problems = environment_configurations(entities=entities, environment=environment)
    descriptor = _descriptor_of(data_product, entities, environment, configurations)
    problems += descriptor_validate(descriptor)
    return DescriptorView(environment=environment, descriptor=descriptor, errors=problems)


def _descriptor_of(data_product: DataProduct, entities: list[Entity], environment: str, configurations) -> dict:
    return descriptor_build(
        system=data_product.entity.document,
        components=[entity.document for entity in entities[1:]],
        environment=environment,
        configurations=configurations,
    )


# --- releases --------------------------------------------------------------------------------------------


@dataclass
class FrozenProduct:
    """A data product as a release freezes it: the descriptor of each environment, the problems met assembling
    them (by environment), and the environment files to copy, by their path inside the release's folder."""

    descriptors: dict[str, dict]
    problems: dict[str, list[str]]
    files: dict[str, str]


def dataproduct_freeze(*, data_product: DataProduct, environments: list[str], at: tuple[str, str]) -> FrozenProduct:
    """The descriptor of every environment and the environment files of the product and its components, read at
    ``at`` = (repository, commit) for what lives in that repository."""
    components, entities = _descriptor_parts(data_product)
    folder_of = {data_product.entity.name: ""} | {
        component.entity.name: posixpath.join(COMPONENTS_FOLDER, component.slug) for component in components
    }
    frozen = FrozenProduct(descriptors={}, problems={}, files={})
    for environment in environments:
        configurations, texts, problems = _environment_read(entities, environment, at)
        descriptor = _descriptor_of(data_product, entities, environment, configurations)
        frozen.descriptors[environment] = descriptor
        frozen.problems[environment] = problems + descriptor_validate(descriptor)
        for name, text in texts.items():
            frozen.files[posixpath.join(folder_of[name], environment_file(environment))] = text
    return frozen


def release_list(*, data_product: DataProduct) -> QuerySet[Release]:
    """The releases of a data product (of its durable identity: they outlive its projection), newest first."""
    return (
        Release.objects.filter(product__dp_id=data_product.dp_id)
        .select_related("promoted_from")
        .order_by("-created_at", "-pk")
    )


def release_get(*, data_product: DataProduct, version: str) -> Release | None:
    if _has_nul(version):
        return None
    return release_list(data_product=data_product).filter(version=version).first()


def release_last_stable(*, product: DataProductIdentity, major: int) -> Release | None:
    """The stable release of ``major`` with the greatest version."""
    return (
        Release.objects.filter(product=product, kind=ReleaseKind.STABLE, major=major)
        .order_by("-minor", "-patch")
        .first()
    )


def release_latest_draft(*, product: DataProductIdentity, major: int) -> Release | None:
    """The draft of ``major`` with the greatest version (the newest: drafts only count up)."""
    return (
        Release.objects.filter(product=product, kind=ReleaseKind.DRAFT, major=major)
        .order_by("-minor", "-snapshot")
        .first()
    )


def release_last_snapshot(*, product: DataProductIdentity, major: int, minor: int) -> int | None:
    """N of the last draft X.Y-SNAPSHOT-N of ``major``.``minor`` (None: no draft of it yet)."""
    return (
        Release.objects.filter(product=product, kind=ReleaseKind.DRAFT, major=major, minor=minor)
        .aggregate(last=Max("snapshot"))
        .get("last")
    )


# --- Git -------------------------------------------------------------------------------------------------


@dataclass
class EntityFile:
    url: str
    branch: str
    path: str
    text: str
    revision: str


def entity_file(*, entity: Entity) -> EntityFile:
    """The entity's file as it is now on the branch it was read from, with the last commit that changed it."""
    try:
        parsed = parse_git_target(entity.source_target)
    except InvalidTarget as exc:
        raise RepositoryNotWritable(
            f"{entity.name} cannot be changed through Meshforge: it was not read from Git; change it where it lives"
        ) from exc
    branch = parsed.branch or DEFAULT_BRANCH
    try:
        text, revision = git_provider().file_read(url=parsed.repository, path=parsed.path, branch=branch)
    except RepositoryNotWritable as exc:
        message = f"{entity.name} cannot be changed through Meshforge: {exc}; change it in Git"
        raise RepositoryNotWritable(message) from exc
    return EntityFile(url=parsed.repository, branch=branch, path=parsed.path, text=text, revision=revision)


def dataproduct_commits(*, data_product: DataProduct, limit: int = 10) -> list[Commit]:
    """The latest commits of the data product's repository (empty when Meshforge cannot read it directly)."""
    try:
        layout = ProductLayout.of(data_product.entity)
    except InvalidTarget:
        return []
    provider = git_provider()
    if not provider.writable(layout.repository):
        return []
    try:
        return provider.commits(url=layout.repository, branch=layout.branch, limit=limit)
    except GitProviderError:
        return []
