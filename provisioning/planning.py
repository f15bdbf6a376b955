"""The plan of a deployment: which adapter provisions each component of a descriptor in an environment, and in
what order (PRODUCT §6). Deploying walks the ``dependsOn`` layers of :mod:`core.graphs` after the data-product-level
adapter, if one is registered; undeploying walks them backwards and ends with the data-product-level adapter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.graphs import layers
from core.problems import Problem
from provisioning.choices import DeploymentOperation, TaskOperation
from provisioning.models import TechAdapter

DATA_PRODUCT_STEP = ""  # the component_id of the data-product-level step


@dataclass
class Step:
    """One adapter operation of the plan."""

    component_id: str
    name: str
    kind: str
    operation: str
    layer: int
    depends_on: list[str]
    adapter: TechAdapter


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def adapters(self) -> list[TechAdapter]:
        return list({step.adapter.pk: step.adapter for step in self.steps}.values())


def _components(descriptor: Mapping) -> list[dict]:
    components = descriptor.get("components")
    return [c for c in components if isinstance(c, dict)] if isinstance(components, list) else []


def _depends_on(component: dict, known: set[str]) -> list[str]:
    depends = component.get("dependsOn")
    return [d for d in depends if isinstance(d, str) and d in known] if isinstance(depends, list) else []


def plan_build(
    *, descriptor: Mapping, environment: str, operation: str, adapters: Mapping[tuple[str, str], TechAdapter]
) -> Plan:
    """The steps that ``operation`` (deploy or undeploy) of ``descriptor`` takes in ``environment``, with the adapters
    registered for it (``adapters``: (infrastructureTemplateId, environment) → row). A component whose template has
    no adapter there is a problem naming the component's field, found before anything runs."""
    plan = Plan()
    components = _components(descriptor)
    ids = [c["id"] for c in components if isinstance(c.get("id"), str)]
    known = set(ids)
    graph = {c["id"]: _depends_on(c, known) for c in components if isinstance(c.get("id"), str)}
    placed = layers(keys=ids, depends_on=graph)
    top = max(placed.values(), default=-1)
    undeploy = operation == DeploymentOperation.UNDEPLOY
    task_operation = TaskOperation.UNPROVISION if undeploy else TaskOperation.PROVISION

    dp_template = descriptor.get("infrastructureTemplateId")
    dp_adapter = adapters.get((dp_template, environment)) if isinstance(dp_template, str) else None
    offset = 1 if dp_adapter is not None and not undeploy else 0

    for index, component in enumerate(components):
        component_id = component.get("id")
        if not isinstance(component_id, str):
            continue  # the adapter-ready check reports it
        template = component.get("infrastructureTemplateId")
        adapter = adapters.get((template, environment)) if isinstance(template, str) else None
        if adapter is None:
            plan.problems.append(
                Problem(
                    path=f"components[{index}].infrastructureTemplateId",
                    message=(
                        f"no tech adapter is registered for {template!r} in {environment}"
                        if isinstance(template, str) and template
                        else "a component needs an infrastructureTemplateId to be provisioned"
                    ),
                    code="adapter",
                )
            )
            continue
        if undeploy:  # dependants first: a component waits for those that depend on it
            depends = [other for other, targets in graph.items() if component_id in targets]
            layer = top - placed[component_id]
        else:
            depends = graph[component_id] + ([DATA_PRODUCT_STEP] if dp_adapter is not None else [])
            layer = placed[component_id] + offset
        plan.steps.append(
            Step(
                component_id=component_id,
                name=str(component.get("name") or component_id.rsplit(":", 1)[-1]),
                kind=str(component.get("kind") or ""),
                operation=task_operation,
                layer=layer,
                depends_on=depends,
                adapter=adapter,
            )
        )
    if dp_adapter is not None:
        plan.steps.append(
            Step(
                component_id=DATA_PRODUCT_STEP,
                name=str(descriptor.get("name") or "data product"),
                kind="dataproduct",
                operation=task_operation,
                layer=top + 1 if undeploy else 0,
                depends_on=ids if undeploy else [],
                adapter=dp_adapter,
            )
        )
    plan.steps.sort(key=lambda step: step.layer)
    return plan
