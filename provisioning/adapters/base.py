"""What a built-in tech adapter implements: a :class:`Backend` that answers the Tech Adapter API 2.2 operations on
parsed requests. The HTTP side (``provisioning.adapters.views``) parses and checks the requests, checks the shared
secret, turns :class:`AdapterRefusal` into a 400 ``RequestValidationError`` and any other exception into a 500
``SystemError``, so a backend only says what it does with one component."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

COMPONENT_DESCRIPTOR = "COMPONENT_DESCRIPTOR"
DATAPRODUCT_DESCRIPTOR = "DATAPRODUCT_DESCRIPTOR"


@dataclass(frozen=True)
class AdapterRequest:
    """A ``ProvisioningRequest`` as a backend sees it: the data product descriptor and, for a component request,
    the id of the component to act on."""

    descriptor_kind: str
    data_product: dict
    component_id: str | None = None
    remove_data: bool = False
    latest_enriched: dict | None = None

    @property
    def component(self) -> dict | None:
        """The component named by ``componentIdToProvision`` (None for a data product request)."""
        if self.component_id is None:
            return None
        for component in self.data_product.get("components") or []:
            if isinstance(component, dict) and component.get("id") == self.component_id:
                return component
        return None

    @property
    def specific(self) -> dict:
        """The component's ``specific`` block ({} when it has none)."""
        specific = (self.component or {}).get("specific")
        return specific if isinstance(specific, dict) else {}


class AdapterRefusal(Exception):
    """The request cannot be carried out as asked: answered 400 with a ``RequestValidationError``."""

    def __init__(
        self,
        errors: list[str],
        *,
        user_message: str = "",
        input_error_field: str | None = None,
        problems: list[str] | None = None,
        solutions: list[str] | None = None,
    ) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors
        self.user_message = user_message or "; ".join(errors)
        self.input_error_field = input_error_field
        self.problems = problems or list(errors)
        self.solutions = solutions or []


@dataclass
class Outcome:
    """A ``ProvisioningStatus``: ``publicInfo`` values follow Witboost's shape
    (``{"<key>": {"type": "string_plain", "label": "…", "value": "…"}}``); logs are ``Log`` objects
    (``{"timestamp", "level", "message", "phase"}``)."""

    status: Literal["COMPLETED", "FAILED", "RUNNING"] = "COMPLETED"
    result: str = ""
    public_info: dict = field(default_factory=dict)
    private_info: dict = field(default_factory=dict)
    logs: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        body: dict = {"status": self.status, "result": self.result}
        if self.public_info or self.private_info:
            body["info"] = {"publicInfo": self.public_info, "privateInfo": self.private_info}
        if self.logs:
            body["logs"] = self.logs
        return body


class Backend:
    """One built-in adapter. Each method is called with a request the HTTP side has already parsed; raise
    :class:`AdapterRefusal` to refuse it."""

    name: str = ""

    def validate(self, request: AdapterRequest) -> list[str]:
        """The reasons the request could not be provisioned ([] when it can)."""
        raise NotImplementedError

    def provision(self, request: AdapterRequest) -> Outcome:
        raise NotImplementedError

    def unprovision(self, request: AdapterRequest) -> Outcome:
        raise NotImplementedError

    def update_acl(self, refs: list[str], request: AdapterRequest) -> Outcome:
        """Make ``refs`` (``user:<name>`` / ``group:<name>``) exactly the identities with access to the component
        of ``request`` (the ``provisionInfo.request`` of an ``UpdateAclRequest``)."""
        raise NotImplementedError

    def reverse_provision(self, use_case_template_id: str, environment: str, params: dict, catalog_info: dict) -> dict:
        """A ``ReverseProvisioningStatus`` (``{"status", "updates", "logs"}``): dot-path updates of the component's
        ``catalog-info.yaml`` read from what the platform has."""
        raise NotImplementedError
