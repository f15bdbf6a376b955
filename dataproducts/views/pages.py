"""The Builder's pages (PRODUCT §4, §9): "My data products", the data product page and its tabs (overview,
components, descriptor), component pages, editing through an edit template with a diff before anything is
committed, removing a component, and the domains. Views parse input, call one selector or service and
render; services check authorization again, and write buttons show only to people who may write."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods

from catalog.models import Entity
from core.htmx import render_page, wants_fragment
from dataproducts import schema_forms, selectors, services
from dataproducts.choices import COMPONENT_TYPES
from dataproducts.descriptor import descriptor_adapter_verdict
from dataproducts.exceptions import CreationFailed, DataProductConflict, StaleEdit, TemplateError, ValuesInvalid
from dataproducts.filtersets import DataProductFilterSet
from dataproducts.forms import DomainForm, IdentityCheck
from dataproducts.gitops.provider import GitProviderError, RepositoryNotWritable
from dataproducts.graph import component_graph_svg
from dataproducts.models import Component, DataProduct, Domain
from dataproducts.views import dataproduct_url

PAGE_SIZE = 25
COMMITS_SHOWN = 10
TABS = {"overview": "Overview", "components": "Components", "descriptor": "Descriptor"}
MATURITIES = ("Tactical", "Strategic")
STALE_MESSAGE = "catalog-info.yaml changed in Git since you opened this form; reload to edit the new version."
# What the Confirm form must not copy from the preview's submission.
NOT_REPOSTED = frozenset({"csrfmiddlewaretoken", "confirm", "_action"})
# The button a template form's table uses for "Add row" / "Remove row" (see schema_forms.table_action_data).
TABLE_ACTION = "_action"


def _dataproduct_or_404(name: str) -> DataProduct:
    data_product = selectors.dataproduct_get(name=name)
    if data_product is None:
        raise Http404(f"No data product {name} in the catalog")
    return data_product


def _component_or_404(data_product: DataProduct, slug: str) -> Component:
    # the components come prefetched with the data product: finding one here costs no query
    for component in data_product.components.all():
        if component.slug == slug:
            return component
    raise Http404(f"No component {slug} in the data product {data_product.name}")


def _writer_required(request: HttpRequest, data_product: DataProduct) -> None:
    """Answer 403 before showing a write form to someone the service would refuse anyway."""
    if not selectors.dataproduct_may_write(data_product=data_product, user=request.user):
        team = data_product.owner_team or data_product.owner_ref or "its owner team"
        raise PermissionDenied(f"only members of {team} may change {data_product.name}")


def _component_url(data_product: DataProduct, component: Component) -> str:
    return reverse("dp:component_detail", args=[data_product.name, component.slug])


def _entity_url(entity: Entity) -> str:
    return reverse(
        "catalog:entity_detail",
        kwargs={"kind": entity.kind.lower(), "namespace": entity.namespace, "name": entity.name},
    )


def _builder_urls() -> dict:
    # Reversed here, not in templates: under /dp/ the {% url %} tag would look for the Builder's routes in the
    # "dp" instance of the dataproducts namespace, which does not have them.
    return {
        "builder_url": reverse("dataproducts:home"),
        "new_dataproduct_url": reverse("dataproducts:template_list") + "?type=dataproduct",
        "domains_url": reverse("dataproducts:domain_list"),
    }


# --- My data products ----------------------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The data products of the user's teams (staff: all), with filters, search as you type and pages."""
    data = request.GET.copy()
    if "mine" not in data:
        # people start from their own teams' products; the platform team looks after all of them
        data["mine"] = "" if request.user.is_staff else "true"
    queryset = selectors.dataproduct_list(user=request.user).annotate(component_count=Count("components"))
    filterset = DataProductFilterSet(data, queryset=queryset, request=request)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    fragment = wants_fragment(request)
    context = {"filterset": filterset, "page": page, "fragment": fragment, "mine": data["mine"]}
    if not fragment:
        every = selectors.dataproduct_list(user=request.user).order_by()
        selected = {key: data.get(key, "") for key in ("domain", "owner_team", "maturity")}

        def options(field: str, chosen: str) -> list[str]:
            # what the products have, and what the URL asks for even when nothing has it (it stays selected)
            return sorted((set(every.values_list(field, flat=True).distinct()) | {chosen}) - {""})

        context |= _builder_urls() | {
            "selected": selected,
            "domain_options": options("domain_name", selected["domain"]),
            "team_options": options("owner_team", selected["owner_team"]),
            "maturity_options": MATURITIES,
        }
    # a filter value that cannot be read (major=abc) is said next to the results, not silently ignored
    status = 200 if filterset.is_valid() else 400
    partial = "dataproducts/partials/dataproduct_results.html"
    return render_page(request, "dataproducts/home.html", context, partial=partial, status=status)


# --- The data product page -----------------------------------------------------------------------------------


def _overview_context(data_product: DataProduct) -> dict:
    entity = data_product.entity
    components = list(data_product.components.all())
    errors = []
    for label, item in [(f"Data product {data_product.name}", entity)] + [
        (f"Component {component.slug}", component.entity) for component in components
    ]:
        if item.all_errors:
            errors.append({"label": label, "url": _entity_url(item), "messages": item.all_errors})
    return {
        "catalog_url": _entity_url(entity),
        # the projection keeps the branch after '#'; `git clone` wants the repository alone
        "clone_url": data_product.repository_url.partition("#")[0],
        "commits": selectors.dataproduct_commits(data_product=data_product, limit=COMMITS_SHOWN),
        "entity_errors": errors,
        "component_count": len(components),
    }


def _component_rows(data_product: DataProduct, components: list[Component]) -> list[dict]:
    by_id = {component.component_id: component for component in components}
    rows = []
    for component in components:
        depends_on = []
        for urn in component.depends_on if isinstance(component.depends_on, list) else []:
            target = by_id.get(urn)
            depends_on.append(
                {
                    "id": urn,
                    "label": target.display_name if target else urn,
                    "url": _component_url(data_product, target) if target else None,
                }
            )
        rows.append({"component": component, "url": _component_url(data_product, component), "depends_on": depends_on})
    return rows


def _components_context(data_product: DataProduct, *, may_write: bool) -> dict:
    components = list(data_product.components.all())
    context = {
        "component_rows": _component_rows(data_product, components),
        "graph": component_graph_svg(
            components=components,
            url_of=lambda component: _component_url(data_product, component),
            label=f"Dependencies between the components of {data_product.display_name}",
        ),
        "component_templates": [],
    }
    if may_write:
        context["component_templates"] = [
            {
                "template": template,
                "type": template.spec.get("type"),
                "url": reverse("dp:component_create_wizard", args=[data_product.name, template.ref]),
            }
            for template in selectors.template_list()
            if template.spec.get("type") in COMPONENT_TYPES
        ]
    return context


def _descriptor_context(request: HttpRequest, data_product: DataProduct) -> tuple[dict, int]:
    environments = list(settings.MESHFORGE_ENVIRONMENTS)
    environment = request.GET.get("env") or environments[0]
    context = {"environments": environments, "environment": environment}
    if environment not in environments:
        context["descriptor_error"] = (
            f"env: unknown environment {environment!r}; expected one of {', '.join(environments)}"
        )
        return context, 400
    view = selectors.dataproduct_descriptor(data_product=data_product, environment=environment)
    context["descriptor"] = view
    # The verdict is the strict one (what the tech adapters accept, PRODUCT §4.3), not the lenient reading.
    context["verdict"] = descriptor_adapter_verdict(view.descriptor, other_problems=view.errors)
    context["download_url"] = reverse("dp:dataproduct_descriptor_download", args=[data_product.name, environment])
    return context, 200


@require_GET
def dataproduct_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The data product page; ``?tab=`` picks the panel, and htmx swaps only the tabs and their panel."""
    data_product = _dataproduct_or_404(name)
    tab = request.GET.get("tab") or "overview"
    may_write = selectors.dataproduct_may_write(data_product=data_product, user=request.user)
    context = {
        "data_product": data_product,
        "entity": data_product.entity,
        "may_write": may_write,
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": dataproduct_url(data_product, key)} for key, label in TABS.items()
        ],
        "dp_url": dataproduct_url(data_product),
        "edit_url": reverse("dp:dataproduct_edit", args=[name]),
    }
    status = 200
    if tab == "overview":
        context |= _overview_context(data_product)
    elif tab == "components":
        context |= _components_context(data_product, may_write=may_write)
    elif tab == "descriptor":
        descriptor_context, status = _descriptor_context(request, data_product)
        context |= descriptor_context
    else:
        context["tab_error"] = f"tab: unknown tab {tab!r}; expected {', '.join(TABS)}"
        status = 400
    if not wants_fragment(request):
        context |= _builder_urls()
    return render_page(
        request,
        "dataproducts/dataproduct_detail.html",
        context,
        partial="dataproducts/partials/dataproduct_tabs.html",
        status=status,
    )


@require_GET
def dataproduct_descriptor_download(request: HttpRequest, name: str, environment: str) -> HttpResponse:
    """The descriptor of one environment as a YAML file."""
    data_product = _dataproduct_or_404(name)
    if environment not in settings.MESHFORGE_ENVIRONMENTS:
        raise Http404(f"No environment {environment}")
    view = selectors.dataproduct_descriptor(data_product=data_product, environment=environment)
    response = HttpResponse(view.yaml, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{data_product.name}-{environment}.yaml")
    return response


# --- Component page ------------------------------------------------------------------------------------------


def _column_type(column: dict) -> str:
    """``DECIMAL(10, 2)``, ``TEXT(255)``, or the bare type, as the DPS data contract spells columns."""
    data_type = str(column.get("dataType") or "")
    sizes = [column.get(key) for key in ("precision", "scale") if column.get(key) is not None]
    if not sizes and column.get("dataLength") is not None:
        sizes = [column["dataLength"]]
    return f"{data_type}({', '.join(str(size) for size in sizes)})" if data_type and sizes else data_type


def _column_tags(tags: object) -> list[str]:
    # tags are strings in Meshforge's own files and OpenMetadata objects ({tagFQN: PII, …}) in Witboost's
    shown = []
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict):
            tag = tag.get("tagFQN")
        if isinstance(tag, str | int | float):
            shown.append(str(tag))
    return shown


def _contract(mesh: dict) -> dict:
    contract = mesh.get("dataContract") if isinstance(mesh.get("dataContract"), dict) else {}
    schema = contract.get("schema") if isinstance(contract.get("schema"), list) else []
    columns = [
        {
            "name": str(column.get("name") or ""),
            "type": _column_type(column),
            "constraint": str(column.get("constraint") or ""),
            "description": column.get("description") if isinstance(column.get("description"), str) else "",
            "tags": _column_tags(column.get("tags")),
        }
        for column in schema
        if isinstance(column, dict)
    ]
    terms = contract.get("termsAndConditions")
    return {"columns": columns, "terms": terms if isinstance(terms, str) else "", "present": bool(contract)}


@require_GET
def component_detail(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    data_product = _dataproduct_or_404(name)
    component = _component_or_404(data_product, slug)
    components = list(data_product.components.all())
    entity = component.entity
    mesh = entity.spec.get("mesh") if isinstance(entity.spec.get("mesh"), dict) else {}
    reads_from = mesh.get("readsFrom") if isinstance(mesh.get("readsFrom"), list) else []
    context = {
        "data_product": data_product,
        "component": component,
        "entity": entity,
        "mesh": mesh,
        "contract": _contract(mesh),
        "depends_on": next(
            row["depends_on"] for row in _component_rows(data_product, components) if row["component"] is component
        ),
        "used_by": [
            {"component": other, "url": _component_url(data_product, other)}
            for other in components
            if isinstance(other.depends_on, list) and component.component_id in other.depends_on
        ],
        "reads_from": [urn for urn in reads_from if isinstance(urn, str)],
        "may_write": selectors.dataproduct_may_write(data_product=data_product, user=request.user),
        "dp_url": dataproduct_url(data_product),
        "components_url": dataproduct_url(data_product, "components"),
        "catalog_url": _entity_url(entity),
        "edit_url": reverse("dp:component_edit", args=[name, slug]),
        "remove_url": reverse("dp:component_remove", args=[name, slug]),
    }
    return render(request, "dataproducts/component_detail.html", context)


# --- Editing -------------------------------------------------------------------------------------------------


def _steps(edit_template: Entity) -> list[dict]:
    parameters = schema_forms.template_parameters(edit_template)
    if isinstance(parameters, dict):
        parameters = [parameters]
    return [step for step in parameters or [] if isinstance(step, dict)]


def _step_forms(request: HttpRequest, edit: _Edit, *, data=None, show_errors: bool = True) -> list:
    """One form per step of the edit template, each with its own prefix, all on one page."""
    context = schema_forms.PickerContext(user=request.user, data_product=edit.data_product, component=edit.component)
    return [
        schema_forms.step_form(
            step, context=context, data=data, initial=edit.initial, prefix=f"s{index}", show_errors=show_errors
        )
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
        values |= dict.fromkeys(form.step.names) | schema_forms.form_values(form)
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
    except TemplateError as exc:
        return _edit_render(request, edit, status=400, page_errors=[str(exc)], **render_with)
    except StaleEdit:
        return _edit_render(request, edit, status=409, page_errors=[STALE_MESSAGE], stale=True, **render_with)
    except (DataProductConflict, RepositoryNotWritable) as exc:
        return _edit_render(request, edit, status=409, page_errors=[str(exc)], **render_with)
    except (CreationFailed, GitProviderError) as exc:
        errors = [f"The change could not be committed: {exc}"]
        return _edit_render(request, edit, status=503, page_errors=errors, **render_with)
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
    data_product = _dataproduct_or_404(name)
    component = _component_or_404(data_product, slug) if slug else None
    _writer_required(request, data_product)
    entity = (component or data_product).entity
    owner = entity.spec.get("owner")
    edit = _Edit(
        data_product=data_product,
        component=component,
        entity=entity,
        template=selectors.edit_template_for(entity=entity),
        page_url=_component_url(data_product, component) if component else dataproduct_url(data_product),
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
    except RepositoryNotWritable as exc:
        return _edit_render(request, edit, status=409, page_errors=[str(exc)])
    except (GitProviderError, CreationFailed) as exc:
        return _edit_render(request, edit, status=503, page_errors=[f"catalog-info.yaml cannot be read: {exc}"])
    except DataProductConflict as exc:
        return _edit_render(request, edit, status=409, page_errors=[str(exc)])
    except TemplateError as exc:
        return _edit_render(request, edit, status=400 if posting else 200, page_errors=[str(exc)])
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


# --- Removing a component ------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def component_remove(request: HttpRequest, name: str, slug: str) -> HttpResponse:
    """A confirmation page (GET), then the removal (POST) of the component's files from Git."""
    data_product = _dataproduct_or_404(name)
    component = _component_or_404(data_product, slug)
    _writer_required(request, data_product)
    used_by = [
        other
        for other in data_product.components.all()
        if isinstance(other.depends_on, list) and component.component_id in other.depends_on
    ]
    context = {
        "data_product": data_product,
        "component": component,
        "used_by": used_by,
        "component_url": _component_url(data_product, component),
        "error": None,
    }
    status = 200
    if request.method == "POST":
        try:
            services.component_remove(component=component, actor=request.user)
        except (DataProductConflict, StaleEdit, RepositoryNotWritable) as exc:
            context["error"], status = str(exc), 409
        except (CreationFailed, GitProviderError) as exc:
            context["error"], status = f"The component could not be removed: {exc}", 503
        else:
            messages.success(request, f"Removed the component {component.display_name} ({component.component_id}).")
            return redirect(dataproduct_url(data_product, "components"))
    return render(request, "dataproducts/component_remove.html", context, status=status)


# --- Domains -------------------------------------------------------------------------------------------------


@require_GET
def domain_list(request: HttpRequest) -> HttpResponse:
    domains = selectors.domain_list(with_counts=True)
    return render(request, "dataproducts/domain_list.html", {"domains": domains, "may_create": request.user.is_staff})


def _staff_required(request: HttpRequest) -> None:
    if not request.user.is_staff:
        raise PermissionDenied("only the platform team (staff) may create or change domains")


def _domain_form(request: HttpRequest, *, domain: Domain | None = None) -> DomainForm:
    initial = {}
    if domain is not None:
        initial = {
            "name": domain.name,
            "title": domain.title,
            "description": domain.description,
            "owner_ref": domain.owner_ref,
            "parent": domain.parent_name,
        }
    return DomainForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        owner_choices=selectors.user_team_refs(user=request.user),
        parent_choices=list(selectors.domain_list().values_list("name", flat=True)),
        editing=domain.name if domain is not None else None,
    )


def _domain_save(request: HttpRequest, form: DomainForm, *, domain: Domain | None) -> tuple[Domain | None, int]:
    """Call the service with the form's values; its refusals go next to the fields they name, with their status."""
    data = form.cleaned_data
    fields = {
        "title": data["title"],
        "description": data["description"],
        "owner_ref": data["owner_ref"],
        "parent": data["parent"] or None,
        "actor": request.user,
    }
    try:
        if domain is None:
            return services.domain_create(name=data["name"], **fields), 200
        return services.domain_update(domain=domain, **fields), 200
    except ValuesInvalid as exc:
        for path, path_messages in exc.errors.items():
            form.add_error(path if path in form.fields else None, path_messages)
        return None, 400
    except ValidationError as exc:
        for path, path_messages in (exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}).items():
            path = {"parent_name": "parent"}.get(path, path)
            form.add_error(path if path in form.fields else None, path_messages)
        return None, 400
    except ValueError as exc:
        form.add_service_error(exc)
        return None, 400
    except (DataProductConflict, RepositoryNotWritable) as exc:
        form.add_error(None, str(exc))
        return None, 409
    except (CreationFailed, GitProviderError) as exc:
        form.add_error(None, f"The domain could not be saved: {exc}")
        return None, 503


@require_http_methods(["GET", "POST"])
def domain_create(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    form = _domain_form(request)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            domain, status = _domain_save(request, form, domain=None)
            if domain is not None:
                messages.success(request, f"Created the domain {domain.name}.")
                return redirect("dataproducts:domain_list")
    return render(request, "dataproducts/domain_form.html", {"form": form, "domain": None}, status=status)


@require_http_methods(["GET", "POST"])
def domain_edit(request: HttpRequest, name: str) -> HttpResponse:
    domain = selectors.domain_get(name=name)
    if domain is None:
        raise Http404(f"No domain {name} in the catalog")
    _staff_required(request)
    form = _domain_form(request, domain=domain)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            saved, status = _domain_save(request, form, domain=domain)
            if saved is not None:
                messages.success(request, f"Saved the domain {saved.name}.")
                return redirect("dataproducts:domain_list")
    return render(request, "dataproducts/domain_form.html", {"form": form, "domain": domain}, status=status)
