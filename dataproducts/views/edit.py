"""Editing a data product or a component through its edit template: the form, "Preview changes" (a
side-by-side diff of its file), then "Confirm", which commits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from catalog.models import Entity
from core.errors import ServiceError
from dataproducts import selectors, services
from dataproducts.exceptions import StaleEdit, TemplateError, ValuesInvalid
from dataproducts.forms import IdentityCheck
from dataproducts.models import Component, DataProduct
from dataproducts.scaffold.forms import form_values, step_form
from dataproducts.scaffold.parameters import template_parameters
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.views import component_or_404, component_url, dataproduct_or_404, dataproduct_url, writer_required

STALE_MESSAGE = "catalog-info.yaml changed in Git since you opened this form; reload to edit the new version."
# What the Confirm form must not copy from the preview's submission.
NOT_REPOSTED = frozenset({"csrfmiddlewaretoken", "confirm", "_action"})
# The button a template form's table uses for "Add row" / "Remove row" (see StepForm.table_action_data).
TABLE_ACTION = "_action"


def _steps(edit_template: Entity) -> list[dict]:
    parameters = template_parameters(edit_template)
    if isinstance(parameters, dict):
        parameters = [parameters]
    return [step for step in parameters or [] if isinstance(step, dict)]


def _step_forms(request: HttpRequest, edit: _Edit, *, data=None, show_errors: bool = True) -> list:
    """One form per step of the edit template, each with its own prefix, all on one page."""
    context = PickerContext(user=request.user, data_product=edit.data_product, component=edit.component)
    return [
        step_form(step, context=context, data=data, initial=edit.initial, prefix=f"s{index}", show_errors=show_errors)
        for index, step in enumerate(_steps(edit.template))
    ]


def _errors_place(step_forms: list, errors: dict[str, list[str]]) -> list[str]:
    """Put a service's errors next to their fields (each form takes the paths of its own step); what names no
    field (``""``: the values as a whole) is returned, to be shown above the form."""
    names = {name for form in step_forms for name in form.step.names}
    unplaced = [
        f"{path}: {message}" if path else message
        for path, path_messages in errors.items()
        if re.split(r"[.\[]", path, maxsplit=1)[0] not in names
        for message in path_messages
    ]
    for form in step_forms:
        form.add_value_errors({path: path_messages for path, path_messages in errors.items() if path})
    return unplaced


@dataclass
class _Edit:
    """What the edit page works on: the entity, its data product (and component), the edit template and the
    form values read from the file."""

    data_product: DataProduct
    component: Component | None
    entity: Entity
    template: Entity | None
    page_url: str
    identity: IdentityCheck
    initial: dict = field(default_factory=dict)


def _edit_render(request: HttpRequest, edit: _Edit, *, status: int = 200, **context) -> HttpResponse:
    step_forms = context.pop("step_forms", [])
    steps = _steps(edit.template) if edit.template is not None else []
    context = {
        "data_product": edit.data_product,
        "component": edit.component,
        "entity": edit.entity,
        "identity": edit.identity,
        "page_url": edit.page_url,
        "edit_template": edit.template,
        "steps": [
            {"form": form, "title": step.get("title") or "", "description": step.get("description") or ""}
            for form, step in zip(step_forms, steps, strict=False)
        ],
        "page_errors": [],
        **context,
    }
    return render(request, "dataproducts/edit.html", context, status=status)


def _edit_commit(request: HttpRequest, edit: _Edit, step_forms: list, base_revision: str) -> HttpResponse:
    """Preview (the diff) or, with ``confirm=1``, commit; every refusal of the service is shown on the form."""
    values = {}
    for form in step_forms:
        # a field left empty is cleared (None); the service keeps fields a request does not name
        values |= dict.fromkeys(form.step.names) | form_values(form)
    confirm = request.POST.get("confirm") == "1"
    arguments = {"entity": edit.entity, "edit_template": edit.template, "values": values, "actor": request.user}
    render_with = {"step_forms": step_forms, "base_revision": base_revision}
    try:
        if confirm:
            sha = services.entity_edit(**arguments, base_revision=base_revision)
        else:
            plan = services.entity_edit_preview(**arguments, base_revision=base_revision)
    except ValuesInvalid as exc:
        return _edit_render(request, edit, status=400, page_errors=_errors_place(step_forms, exc.errors), **render_with)
    except StaleEdit as exc:
        return _edit_render(request, edit, status=exc.status, page_errors=[STALE_MESSAGE], stale=True, **render_with)
    except ServiceError as exc:
        errors = [f"The change could not be committed: {exc}" if exc.status >= 500 else str(exc)]
        return _edit_render(request, edit, status=exc.status, page_errors=errors, **render_with)
    if confirm:
        if sha:
            messages.success(request, f"Committed {sha[:7]}.")
        else:
            messages.info(request, "Nothing to change.")
        return redirect(edit.page_url)
    # the Confirm form posts exactly what was previewed, whatever is typed into the form above it meanwhile
    reposted = [(key, value) for key, values in request.POST.lists() if key not in NOT_REPOSTED for value in values]
    return _edit_render(request, edit, plan=plan, reposted=reposted, **render_with)


@require_http_methods(["GET", "POST"])
def entity_edit_view(request: HttpRequest, name: str, slug: str | None = None) -> HttpResponse:
    """Edit a data product (or one of its components) through its edit template: the form, "Preview changes"
    (a side-by-side diff of catalog-info.yaml), then "Confirm" (``confirm=1``), which commits."""
    data_product = dataproduct_or_404(name)
    component = component_or_404(data_product, slug) if slug else None
    writer_required(request, data_product)
    entity = (component or data_product).entity
    owner = entity.spec.get("owner")
    edit = _Edit(
        data_product=data_product,
        component=component,
        entity=entity,
        template=selectors.edit_template_for(entity=entity),
        page_url=component_url(data_product, component) if component else dataproduct_url(data_product),
        identity=IdentityCheck(
            name=entity.name,
            domain=data_product.domain_name,
            owner=owner if isinstance(owner, str) else data_product.owner_ref,
            system=data_product.name if component else "",
        ),
    )
    posting = request.method == "POST"
    if edit.template is None:
        use_case = (component or data_product).use_case_template_id
        message = (
            f"No edit template is registered for {use_case or 'this entity (it has no spec.mesh.useCaseTemplateId)'}"
            ": nothing here can be edited through Meshforge. Edit catalog-info.yaml in Git, or ask the platform team "
            "to register an EditTemplate for it."
        )
        return _edit_render(request, edit, status=400 if posting else 200, page_errors=[message])

    base_revision = request.POST.get("base_revision", "").strip() if posting else ""
    try:
        if not posting:
            # the revision first: should the file change between the two reads, the form shows newer values
            # than its base and the edit is refused as stale, rather than older ones silently overwriting a change
            base_revision = selectors.entity_file(entity=entity).revision
        edit.initial = services.edit_initial(entity=entity, edit_template=edit.template)
        step_forms = _step_forms(request, edit, data=request.POST if posting else None)
    except TemplateError as exc:  # the page stays usable (its message says why nothing can be edited)
        return _edit_render(request, edit, status=exc.status if posting else 200, page_errors=[str(exc)])
    except ServiceError as exc:
        message = f"catalog-info.yaml cannot be read: {exc}" if exc.status >= 500 else str(exc)
        return _edit_render(request, edit, status=exc.status, page_errors=[message])
    if not posting:
        return _edit_render(request, edit, step_forms=step_forms, base_revision=base_revision)

    for form in step_forms:
        changed = form.table_action_data(request.POST.get(TABLE_ACTION, ""))
        if changed is not None:  # "Add row" / "Remove row": the same form again, one row more or less
            step_forms = _step_forms(request, edit, data=changed, show_errors=False)
            return _edit_render(request, edit, step_forms=step_forms, base_revision=base_revision)

    page_errors = edit.identity.changes(request.POST)
    if not base_revision:
        page_errors.append("base_revision: missing; reload the page to edit the current version")
    invalid = [form for form in step_forms if not form.is_valid()]  # all of them, so that each shows its errors
    if page_errors or invalid:
        return _edit_render(
            request, edit, status=400, page_errors=page_errors, step_forms=step_forms, base_revision=base_revision
        )
    return _edit_commit(request, edit, step_forms, base_revision)
