"""The creation wizard (PRODUCT §4.2): the template cards (filter by type, search as you type) and the multi-step
form generated from a template's ``spec.parameters``, for a new data product (``/builder/create/<template>/``)
or a new component of one (``/dp/<name>/add/<template>/``).

Every POST carries the inputs of all steps (the visible step's fields, the others as hidden inputs) and checks
again every step up to the one submitted, so nothing typed earlier is trusted because it was checked before.
After the last step a review lists the values and the files creating would write; Create calls the service.
htmx swaps the wizard body in place; without htmx every button is a plain form submission."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from catalog.models import Entity
from core.errors import ServiceError, error_status
from core.htmx import render_page, wants_fragment
from dataproducts import selectors, services
from dataproducts.choices import COMPONENT_TYPES, TemplateType
from dataproducts.exceptions import CreationFailed, DataProductConflict, TemplateError, ValuesInvalid
from dataproducts.gitops.provider import GitProviderError
from dataproducts.models import DataProduct
from dataproducts.scaffold import pickers
from dataproducts.scaffold.checks import template_problems
from dataproducts.scaffold.forms import StepForm, form_summary, form_values, step_form
from dataproducts.scaffold.parameters import PASSWORD, template_parameters
from dataproducts.scaffold.pickers import PickerContext
from dataproducts.scaffold.values import errors_first_step
from dataproducts.views import dataproduct_url

# Each step's inputs are prefixed s<index>-; s<index>-_seen says the step was shown, so its inputs (even all
# empty, or unchecked boxes) are what the user left there, not something to fill with the defaults.
SEEN = "_seen"
_STEP_KEY_RE = re.compile(r"s(\d{1,3})-")
_MAX_PARAM_LENGTH = 200
# Where a person left each wizard (its inputs and step), so that a reload or a return opens it there; the few
# most recent wizards only, dropped at Create and by "Start over".
_DRAFTS = "wizard_drafts"
_MAX_DRAFTS = 5
_SEARCH_MAX_LENGTH = 200


def _plain_param(text: str | None, *, max_length: int = _MAX_PARAM_LENGTH) -> str:
    """A URL or query parameter the database may see: NUL characters cannot be stored in PostgreSQL text, so
    such a value (or an absurdly long one) names nothing."""
    text = (text or "").strip()
    return "" if "\x00" in text or len(text) > max_length else text


def _template_path(entity: Entity) -> str:
    return entity.name if entity.namespace == "default" else f"{entity.namespace}/{entity.name}"


def _template_or_404(path: str, *, types: frozenset[str]) -> Entity:
    path = _plain_param(path)
    entity = selectors.template_get(ref=path) if path else None
    if entity is None or entity.spec.get("type") not in types:
        wanted = "data product" if types == {TemplateType.DATAPRODUCT} else "component"
        raise Http404(f"No {wanted} template {path} from a trusted location")
    return entity


# --- the template list ---------------------------------------------------------------------------------------


def _template_card(entity: Entity, *, data_product: DataProduct | None, may_write: bool) -> dict:
    template_type = entity.spec.get("type")
    tags = entity.metadata.get("tags")
    problems = template_problems(entity.document)
    card = {
        "entity": entity,
        "title": entity.title,
        "description": entity.metadata.get("description") or "",
        "type": template_type,
        "type_label": TemplateType(template_type).label if template_type in TemplateType.values else template_type,
        "tags": [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
        "problems": problems,
        "url": None,
        "note": "",
    }
    if problems:
        card["note"] = "This template cannot be used until the platform team fixes it."
    elif template_type == TemplateType.DATAPRODUCT:
        card["url"] = reverse("dataproducts:dataproduct_create_wizard", args=[_template_path(entity)])
    elif data_product is None:
        card["note"] = "Add from a data product page."
    elif may_write:
        card["url"] = reverse("dp:component_create_wizard", args=[data_product.name, _template_path(entity)])
    else:
        card["note"] = f"Only members of {data_product.owner_team or data_product.owner_ref} may add components."
    return card


@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    """Template cards: filter by type, search as you type (one URL for the page and its results fragment).
    Component templates link to the wizard only with ``?dp=<data product>``, since a component needs one."""
    template_type = request.GET.get("type", "")
    template_type = template_type if template_type in TemplateType.values else ""
    search = _plain_param(request.GET.get("q"), max_length=_SEARCH_MAX_LENGTH)
    dp_name = _plain_param(request.GET.get("dp"))
    data_product = selectors.dataproduct_get(name=dp_name) if dp_name else None
    may_write = data_product is not None and selectors.dataproduct_may_write(
        data_product=data_product, user=request.user
    )
    templates = selectors.template_list(type=template_type or None, search=search)
    context = {
        "cards": [_template_card(entity, data_product=data_product, may_write=may_write) for entity in templates],
        "type_options": TemplateType.choices,
        "selected_type": template_type,
        "search": search,
        "data_product": data_product,
        "list_url": reverse("dataproducts:template_list"),
        "data_product_url": dataproduct_url(data_product) if data_product else None,
        "fragment": wants_fragment(request),
    }
    return render_page(
        request,
        "dataproducts/template_list.html",
        context,
        partial="dataproducts/partials/wizard_template_results.html",
    )


# --- the wizard ------------------------------------------------------------------------------------------------


@dataclass
class _Wizard:
    """One template's wizard for one request: the steps, who fills them and where the result goes."""

    request: HttpRequest
    template: Entity
    context: PickerContext
    data_product: DataProduct | None = None

    @cached_property
    def parameters(self) -> list:
        return template_parameters(self.template)

    @property
    def count(self) -> int:
        return len(self.parameters)

    def form(self, index: int, data, *, show_errors: bool = True, bound: bool | None = None) -> StepForm:
        """Step ``index``'s form, bound to ``data`` once the step has been shown (else with its defaults)."""
        if bound is None:
            bound = data is not None and f"s{index}-{SEEN}" in data
        return step_form(
            self.parameters[index],
            context=self.context,
            data=data if bound else None,
            prefix=f"s{index}",
            show_errors=show_errors,
        )

    def preview(self, values: dict):
        if self.data_product is None:
            return services.dataproduct_preview(template=self.template, values=values, actor=self.request.user)
        return services.component_preview(
            data_product=self.data_product, template=self.template, values=values, actor=self.request.user
        )

    def create(self, values: dict) -> str:
        """Create, and return the page to go to."""
        user = self.request.user
        if self.data_product is None:
            data_product = services.dataproduct_create(template=self.template, values=values, actor=user)
            messages.success(self.request, f"Created the data product {data_product.name}.")
            return dataproduct_url(data_product)
        component = services.component_create(
            data_product=self.data_product, template=self.template, values=values, actor=user
        )
        messages.success(self.request, f"Added the component {component.name} to {self.data_product.name}.")
        return dataproduct_url(self.data_product, tab="components")

    @property
    def cancel_url(self) -> str:
        if self.data_product is not None:
            return dataproduct_url(self.data_product, tab="components")
        return reverse("dataproducts:template_list") + "?type=dataproduct"


def _carried(wizard: _Wizard, data, shown: int | None) -> list[tuple[str, str]]:
    """The inputs of every step but the one shown, to post again as hidden inputs."""
    if data is None:
        return []
    carried = []
    for key, values in data.lists():
        match = _STEP_KEY_RE.match(key)
        if match and int(match[1]) < wizard.count and int(match[1]) != shown:
            carried += [(key, value) for value in values]
    return carried


def _draft_keep(wizard: _Wizard, index: int, data) -> None:
    """Remember the inputs of every step and the step shown, for this wizard's path (the session's own copy:
    what the next request trusts is checked again as every POST is). Passwords are never kept: they are typed
    again after a reload."""
    secret = {
        form.add_prefix(name)
        for form in (wizard.form(step, None) for step in range(wizard.count))
        for name, param in form.params.items()
        if param.kind == PASSWORD
    }
    items = [
        (key, value)
        for key, values in data.lists()
        if _STEP_KEY_RE.match(key) and key not in secret
        for value in values
    ]
    drafts = dict(wizard.request.session.get(_DRAFTS) or {})
    drafts.pop(wizard.request.path, None)
    drafts[wizard.request.path] = {"index": index, "items": items}
    while len(drafts) > _MAX_DRAFTS:
        drafts.pop(next(iter(drafts)))
    wizard.request.session[_DRAFTS] = drafts


def _draft_drop(wizard: _Wizard) -> None:
    drafts = dict(wizard.request.session.get(_DRAFTS) or {})
    if drafts.pop(wizard.request.path, None) is not None:
        wizard.request.session[_DRAFTS] = drafts


def _draft(wizard: _Wizard) -> tuple[int, QueryDict] | None:
    """The step and inputs this person left this wizard at, if any (a malformed draft counts as none)."""
    draft = (wizard.request.session.get(_DRAFTS) or {}).get(wizard.request.path)
    try:
        index, items = int(draft["index"]), [(str(key), str(value)) for key, value in draft["items"]]
    except (TypeError, KeyError, ValueError):
        return None
    data = QueryDict(mutable=True)
    for key, value in items:
        data.appendlist(key, value)
    return min(max(index, 0), wizard.count - 1), data  # the review is made again from the last step


def _render(wizard: _Wizard, *, index: int, data, form: StepForm | None = None, status: int = 200, **context):
    """The wizard at step ``index`` (``wizard.count`` is the review)."""
    if data is not None and wizard.request.method == "POST":
        _draft_keep(wizard, index, data)
    review = index >= wizard.count
    steps = [
        {"number": number + 1, "title": step.get("title") or f"Step {number + 1}", "index": number}
        for number, step in enumerate(wizard.parameters)
    ]
    steps.append({"number": len(steps) + 1, "title": "Review", "index": wizard.count})
    for step in steps:
        step["state"] = "done" if step["index"] < index else "current" if step["index"] == index else "todo"
    context = {
        "template": wizard.template,
        "data_product": wizard.data_product,
        "creating": "component" if wizard.data_product is not None else "data product",
        "steps": steps,
        "index": index,
        "review": review,
        "last_step": index == wizard.count - 1,
        "step": None if review else steps[index],
        "step_description": "" if review else (wizard.parameters[index].get("description") or ""),
        "form": form,
        "seen_name": f"s{index}-{SEEN}",
        "carried": _carried(wizard, data, None if review else index),
        "action_url": wizard.request.path,
        "cancel_url": wizard.cancel_url,
        **context,
    }
    return render_page(
        wizard.request,
        "dataproducts/wizard.html",
        context,
        partial="dataproducts/partials/wizard_body.html",
        status=status,
    )


def _show(wizard: _Wizard, index: int, data, **context) -> HttpResponse:
    """Step ``index`` as it was left, without judging it (navigation, table rows)."""
    return _render(wizard, index=index, data=data, form=wizard.form(index, data, show_errors=False), **context)


def _failure(exc: Exception) -> tuple[str, int]:
    """What a refusal of the service says, with the status the error carries (``core.errors``)."""
    status = error_status(exc) or 500
    if isinstance(exc, DataProductConflict):
        return f"{exc}. Choose another name, or open the existing one.", status
    if isinstance(exc, TemplateError):
        return f"The template cannot be used: {exc}", status
    if isinstance(exc, CreationFailed):
        return f"Creating failed at the {exc.step} step ({exc}); nothing was kept, so you can try again.", status
    if isinstance(exc, GitProviderError) and status >= 500:
        return f"The repository could not be read or written: {exc}", status
    if isinstance(exc, PermissionDenied):
        return f"You may not do this: {exc}", status
    return f"{exc}.", status


def _checked_steps(wizard: _Wizard, data, upto: int) -> tuple[list[StepForm], int | None]:
    """The forms of steps 0..upto, all bound to ``data`` and checked, and the first invalid one."""
    forms = [wizard.form(index, data, bound=True) for index in range(upto + 1)]
    invalid = next((index for index, form in enumerate(forms) if not form.is_valid()), None)
    return forms, invalid


def _name_taken(wizard: _Wizard, forms: list[StepForm]) -> int | None:
    """A new data product's name that is taken, said at the step that asks for it (not only at Create): the
    index of that step, with the error on its name field; None when free or not asked yet."""
    if wizard.data_product is not None:
        return None
    values: dict = {}
    for form in forms:
        values |= form_values(form)
    if not isinstance(values.get("name"), str) or not isinstance(values.get("domain"), str):
        return None
    conflict = services.dataproduct_name_conflict(domain_ref=values["domain"], name=values["name"])
    if not conflict:
        return None
    index = errors_first_step(parameters=wizard.parameters, errors={"name": [conflict]})
    forms[index].add_value_errors({"name": [f"is taken: {conflict}; choose another name"]})
    return index


def _review_or_create(wizard: _Wizard, data, forms: list[StepForm], *, create: bool) -> HttpResponse:
    """The review (the values and the files of the service's preview) or the creation, from valid forms."""
    values: dict = {}
    for form in forms:
        values |= form_values(form)
    summary = [
        {"title": step.get("title") or f"Step {index + 1}", "index": index, "items": form_summary(form)}
        for index, (step, form) in enumerate(zip(wizard.parameters, forms, strict=True))
    ]
    try:
        if create:
            url = wizard.create(values)
            _draft_drop(wizard)
            return HttpResponseClientRedirect(url) if wants_fragment(wizard.request) else redirect(url)
        plan = wizard.preview(values)
    except ValuesInvalid as exc:
        # the service has the last word (names taken, references gone): back to the step of the first error
        index = errors_first_step(parameters=wizard.parameters, errors=exc.errors)
        forms[index].add_value_errors(exc.errors)
        return _render(wizard, index=index, data=data, form=forms[index], status=400)
    except (ServiceError, PermissionDenied) as exc:
        message, status = _failure(exc)
        return _render(wizard, index=wizard.count, data=data, summary=summary, error=message, status=status)
    return _render(wizard, index=wizard.count, data=data, summary=summary, plan=plan)


def _wizard_respond(wizard: _Wizard) -> HttpResponse:
    request = wizard.request
    problems = template_problems(wizard.template.document)
    if problems:
        return _render_broken(wizard, problems)
    if request.method == "GET":
        if "restart" in request.GET:
            _draft_drop(wizard)
        elif (draft := _draft(wizard)) is not None:
            return _show(wizard, draft[0], draft[1], resumed=True)
        return _show(wizard, 0, None)
    data = request.POST
    try:
        index = min(max(int(data.get("_step", "0")), 0), wizard.count)
    except ValueError:
        index = 0
    action = data.get("_action") or "next"  # a POST without a button (a script, Enter in a field) means Next
    if action == "back":
        return _show(wizard, max(index - 1, 0), data)
    if (goto := re.fullmatch(r"goto:(\d{1,3})", action)) and int(goto[1]) < index:
        return _show(wizard, int(goto[1]), data)
    if action.startswith(("add:", "remove:")) and index < wizard.count:
        changed = wizard.form(index, data, bound=True).table_action_data(action)
        if changed is not None:
            return _show(wizard, index, changed)
    elif action == "next" or (action == "create" and index == wizard.count):
        # Next checks every step up to this one again; from the last step (or the review) it shows the review
        forms, invalid = _checked_steps(wizard, data, min(index, wizard.count - 1))
        if invalid is None and action == "next":  # at Create the service answers a conflict itself (409)
            invalid = _name_taken(wizard, forms)
        if invalid is not None:
            return _render(wizard, index=invalid, data=data, form=forms[invalid], status=400)
        if index + 1 < wizard.count:
            return _show(wizard, index + 1, data)
        return _review_or_create(wizard, data, forms, create=action == "create")
    form = None if index == wizard.count else wizard.form(index, data, show_errors=False)
    error = f"Unknown action {action[:50]!r}: use the wizard's buttons."
    return _render(wizard, index=index, data=data, form=form, error=error, status=400)


def _render_broken(wizard: _Wizard, problems: list[str]) -> HttpResponse:
    return render_page(
        wizard.request,
        "dataproducts/wizard.html",
        {
            "template": wizard.template,
            "data_product": wizard.data_product,
            "problems": problems,
            "cancel_url": wizard.cancel_url,
        },
        partial="dataproducts/partials/wizard_body.html",
        status=400,
    )


@require_http_methods(["GET", "POST"])
def dataproduct_create_wizard(request: HttpRequest, template: str) -> HttpResponse:
    """Create a data product from a ``spec.type: dataproduct`` template."""
    entity = _template_or_404(template, types=frozenset({TemplateType.DATAPRODUCT}))
    wizard = _Wizard(request=request, template=entity, context=PickerContext(user=request.user))
    if not pickers.owner_choices(user=request.user):
        return _render_teamless(wizard)
    return _wizard_respond(wizard)


def _render_teamless(wizard: _Wizard) -> HttpResponse:
    """A person in no team could fill every step and find the owner list empty at the end: told at the start
    what to do instead (a GET is a page to read; a POST is refused). A whole page, never a wizard fragment."""
    context = {
        "template": wizard.template,
        "teamless": True,
        "teams_url": reverse("catalog:home") + "?kind=group",
        "cancel_url": wizard.cancel_url,
    }
    return render(
        wizard.request, "dataproducts/wizard.html", context, status=200 if wizard.request.method == "GET" else 403
    )


@require_http_methods(["GET", "POST"])
def component_create_wizard(request: HttpRequest, name: str, template: str) -> HttpResponse:
    """Add a component to a data product, for members of its owner team (and staff) only."""
    name = _plain_param(name)
    data_product = selectors.dataproduct_get(name=name) if name else None
    if data_product is None:
        raise Http404(f"No data product {name} in the catalog")
    if not selectors.dataproduct_may_write(data_product=data_product, user=request.user):
        team = data_product.owner_team or data_product.owner_ref or "its owner team"
        raise PermissionDenied(f"only members of {team} may add components to {data_product.name}")
    entity = _template_or_404(template, types=COMPONENT_TYPES)
    context = PickerContext(user=request.user, data_product=data_product)
    return _wizard_respond(_Wizard(request=request, template=entity, context=context, data_product=data_product))
