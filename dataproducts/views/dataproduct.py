"""The data product page and its tabs (overview, components, descriptor, releases, then those that other apps add
through :mod:`core.extensions`: governance), its descriptor as a file, and the Releases tab's actions (make a draft,
promote one, start a new major version)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from core.errors import ServiceError
from core.extensions import dataproduct_extensions
from core.htmx import render_page, wants_fragment
from core.yaml import dump
from dataproducts import selectors, services
from dataproducts.choices import COMPONENT_TYPES
from dataproducts.descriptor.adapter import descriptor_adapter_verdict
from dataproducts.gitops.diff import unified_diff
from dataproducts.graph import component_graph_svg
from dataproducts.models import DataProduct
from dataproducts.views import (
    builder_urls,
    component_rows,
    component_url,
    dataproduct_or_404,
    dataproduct_url,
    entity_url,
    writer_required,
)

COMMITS_SHOWN = 10
TABS = {
    "overview": "Overview",
    "components": "Components",
    "descriptor": "Descriptor",
    "releases": "Releases",
}


def _overview_context(data_product: DataProduct) -> dict:
    entity = data_product.entity
    components = list(data_product.components.all())
    errors = []
    for label, item in [(f"Data product {data_product.name}", entity)] + [
        (f"Component {component.slug}", component.entity) for component in components
    ]:
        if item.all_errors:
            errors.append({"label": label, "url": entity_url(item), "messages": item.all_errors})
    return {
        "catalog_url": entity_url(entity),
        # the projection keeps the branch after '#'; `git clone` wants the repository alone
        "clone_url": data_product.repository_url.partition("#")[0],
        "commits": selectors.dataproduct_commits(data_product=data_product, limit=COMMITS_SHOWN),
        "entity_errors": errors,
        "component_count": len(components),
    }


def _components_context(data_product: DataProduct, *, may_write: bool) -> dict:
    components = list(data_product.components.all())
    context = {
        "component_rows": component_rows(data_product, components),
        "graph": component_graph_svg(
            components=components,
            url_of=lambda component: component_url(data_product, component),
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


def _releases_context(request: HttpRequest, data_product: DataProduct, *, may_write: bool) -> tuple[dict, int]:
    """The releases (one query), what promoting the latest draft would make, and the diff of two releases' YAML
    (``?from=&to=&env=``) picked from the list in memory: the tab costs the same queries for 2 releases or 200."""
    releases = list(selectors.release_list(data_product=data_product))
    environments = list(settings.MESHFORGE_ENVIRONMENTS)
    drafts = [release for release in releases if not release.is_stable and release.major == data_product.major]
    latest_draft = max(drafts, key=lambda release: (release.minor, release.snapshot), default=None)
    context = {
        "releases": releases,
        "environments": environments,
        "latest_draft": latest_draft,
        "draft_url": reverse("dp:release_draft_create", args=[data_product.name]),
        "promote_url": reverse("dp:release_promote", args=[data_product.name]),
        "major_url": reverse("dp:release_major_create", args=[data_product.name]),
    }
    if may_write and latest_draft is not None and not any(r.promoted_from_id == latest_draft.pk for r in releases):
        suggested, breaking, last = services.release_promotion_plan(draft=latest_draft)
        context |= {"suggested_version": str(suggested), "promotable": latest_draft, "last_stable": last}
        context["breaking"] = [f"{environment}: {change}" for environment, change in breaking]
        context["next_major"] = data_product.major + 1
    status = 200
    by_version = {release.version: release for release in releases}
    picked = {key: request.GET.get(key, "") for key in ("from", "to")}
    environment = request.GET.get("env") or environments[0]
    context |= {"diff_from": picked["from"], "diff_to": picked["to"], "diff_env": environment}
    if picked["from"] or picked["to"]:
        problems = [f"{key}: no release {value!r}" for key, value in picked.items() if value not in by_version]
        if environment not in environments:
            problems.append(f"env: unknown environment {environment!r}; expected one of {', '.join(environments)}")
        if problems:
            context["diff_error"], status = "; ".join(problems), 400
        else:
            old, new = (by_version[picked[key]].descriptors.get(environment) for key in ("from", "to"))
            context["diff"] = unified_diff(dump(old) if old else "", dump(new) if new else "")
    return context, status


def _detail_response(
    request: HttpRequest, data_product: DataProduct, tab: str, *, extra: dict | None = None, status: int = 200
) -> HttpResponse:
    may_write = selectors.dataproduct_may_write(data_product=data_product, user=request.user)
    extensions = dataproduct_extensions()
    tabs = dict(TABS) | {extension.tab.key: extension.tab.label for extension in extensions if extension.tab}
    extension_tabs = {extension.tab.key: extension.tab for extension in extensions if extension.tab}
    context = {
        "data_product": data_product,
        "entity": data_product.entity,
        "may_write": may_write,
        "tab": tab,
        "tabs": [
            {"key": key, "label": label, "url": dataproduct_url(data_product, key)} for key, label in tabs.items()
        ],
        "dp_url": dataproduct_url(data_product),
        "edit_url": reverse("dp:dataproduct_edit", args=[data_product.name]),
    }
    tab_status = 200
    if tab == "overview":
        context |= _overview_context(data_product)
    elif tab == "components":
        context |= _components_context(data_product, may_write=may_write)
    elif tab == "descriptor":
        descriptor_context, tab_status = _descriptor_context(request, data_product)
        context |= descriptor_context
    elif tab == "releases":
        releases_context, tab_status = _releases_context(request, data_product, may_write=may_write)
        context |= releases_context
    elif tab in extension_tabs:
        context |= extension_tabs[tab].context(request, data_product)
        context["extension_tab"] = extension_tabs[tab]
    else:
        context["tab_error"] = f"tab: unknown tab {tab!r}; expected {', '.join(tabs)}"
        tab_status = 400
    context |= extra or {}
    if not wants_fragment(request):
        # the header's badges that extensions add (the tabs' fragment has no header)
        badges = [extension.badge(request, data_product, context) for extension in extensions if extension.badge]
        context |= builder_urls() | {"header_badges": badges}
    return render_page(
        request,
        "dataproducts/dataproduct_detail.html",
        context,
        partial="dataproducts/partials/dataproduct_tabs.html",
        status=status if status != 200 else tab_status,
    )


@require_GET
def dataproduct_detail(request: HttpRequest, name: str) -> HttpResponse:
    """The data product page; ``?tab=`` picks the panel, and htmx swaps only the tabs and their panel."""
    data_product = dataproduct_or_404(name)
    return _detail_response(request, data_product, request.GET.get("tab") or "overview")


def _release_action(request: HttpRequest, name: str, action, error_key: str) -> HttpResponse:
    """Run a release action as the person; on success back to the Releases tab with the news, otherwise the tab
    again with the reasons next to the action (400, 403, 409 or 503 as the refusal means)."""
    data_product = dataproduct_or_404(name)
    writer_required(request, data_product)
    try:
        release = action(data_product)
    except services.BreakingChanges as exc:
        errors = {f"{error_key}_error": exc.summary, "breaking": exc.messages, "next_major": exc.next_major}
        return _detail_response(request, data_product, "releases", extra=errors, status=400)
    except ValidationError as exc:
        lines = (
            [f"{field}: {message}" for field, messages in exc.message_dict.items() for message in messages]
            if hasattr(exc, "error_dict")
            else exc.messages
        )
        return _detail_response(request, data_product, "releases", extra={f"{error_key}_error": lines}, status=400)
    except (ServiceError, PermissionDenied) as exc:
        status = exc.status if isinstance(exc, ServiceError) else 403
        extra = {f"{error_key}_error": [str(exc) + ("; nothing was changed" if status >= 500 else "")]}
        return _detail_response(request, data_product, "releases", extra=extra, status=status)
    kind = "stable release" if release.is_stable else "draft"
    messages.success(request, f"Made the {kind} {release.version} of {data_product.display_name}.")
    return redirect(dataproduct_url(data_product, "releases"))


@require_POST
def release_draft_create(request: HttpRequest, name: str) -> HttpResponse:
    """Freeze the data product as a new draft release."""
    notes = request.POST.get("notes", "")
    return _release_action(
        request,
        name,
        lambda data_product: services.release_draft_create(data_product=data_product, actor=request.user, notes=notes),
        "draft",
    )


@require_POST
def release_promote(request: HttpRequest, name: str) -> HttpResponse:
    """Promote a draft (the latest by default) to a stable release, at the version given or the suggested one."""
    fields = {key: request.POST.get(key, "").strip() for key in ("version", "draft")}
    notes = request.POST.get("notes", "")
    return _release_action(
        request,
        name,
        lambda data_product: services.release_promote(
            data_product=data_product,
            actor=request.user,
            draft=fields["draft"] or None,
            version=fields["version"] or None,
            notes=notes,
        ),
        "promote",
    )


@require_POST
def release_major_create(request: HttpRequest, name: str) -> HttpResponse:
    """Start the data product's next major version (the way out of a breaking change): on success the new product's
    page with the news, otherwise the Releases tab with the reason next to the action."""
    data_product = dataproduct_or_404(name)
    writer_required(request, data_product)
    try:
        made = services.release_major_create(data_product=data_product, actor=request.user)
    except (ServiceError, PermissionDenied, ValidationError) as exc:
        if isinstance(exc, ValidationError):
            lines, status = exc.messages, 400
        else:
            status = exc.status if isinstance(exc, ServiceError) else 403
            lines = [str(exc) + ("; nothing was changed" if status >= 500 else "")]
        extra = {"major_error": lines, "next_major": data_product.major + 1}
        return _detail_response(request, data_product, "releases", extra=extra, status=status)
    messages.success(
        request,
        f"Made major version {made.major} of {data_product.display_name}: {made.name}, on branch "
        f"release/{made.major} of its repository, beside {data_product.name}.",
    )
    return redirect(dataproduct_url(made))


@require_GET
def dataproduct_descriptor_download(request: HttpRequest, name: str, environment: str) -> HttpResponse:
    """The descriptor of one environment as a YAML file."""
    data_product = dataproduct_or_404(name)
    if environment not in settings.MESHFORGE_ENVIRONMENTS:
        raise Http404(f"No environment {environment}")
    view = selectors.dataproduct_descriptor(data_product=data_product, environment=environment)
    response = HttpResponse(view.yaml, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{data_product.name}-{environment}.yaml")
    return response
