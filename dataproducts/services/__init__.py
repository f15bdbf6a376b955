"""Writes owned by the Builder (PRODUCT §4.1 to §4.4), one module per concern: creating data products
(``creation``, a saga with undo), their components (``components``), edits through edit templates
(``edits``), the platform's domains (``domains``) and releases (``releases``). Every write goes to Git first and
reaches the catalog through a location refresh; nothing here writes an entity row.

The public services are re-exported here, so callers write ``services.dataproduct_create(...)``."""

from dataproducts.services.components import component_create, component_preview, component_remove
from dataproducts.services.creation import (
    CreationPlan,
    creation_lock_key,
    dataproduct_create,
    dataproduct_name_conflict,
    dataproduct_preview,
)
from dataproducts.services.domains import domain_create, domain_update
from dataproducts.services.edits import edit_initial, entity_edit, entity_edit_preview
from dataproducts.services.releases import (
    BreakingChanges,
    ReleaseConflict,
    release_draft_create,
    release_draft_version,
    release_major_create,
    release_promote,
    release_promotion_plan,
)

__all__ = [
    "BreakingChanges",
    "CreationPlan",
    "ReleaseConflict",
    "component_create",
    "component_preview",
    "component_remove",
    "creation_lock_key",
    "dataproduct_create",
    "dataproduct_name_conflict",
    "dataproduct_preview",
    "domain_create",
    "domain_update",
    "edit_initial",
    "entity_edit",
    "entity_edit_preview",
    "release_draft_create",
    "release_draft_version",
    "release_major_create",
    "release_promote",
    "release_promotion_plan",
]
