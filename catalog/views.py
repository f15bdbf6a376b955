"""The catalog's pages (PRODUCT §3, §9): the entity list with its filters and errors, the entity page with its
Refresh button, the locations (refresh, trust, unregister) and "Register existing entity". Views parse input,
call one service or selector and render; htmx requests get the fragment of the same URL."""

from __future__ import annotations

from urllib.parse import urlsplit

import yaml
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models.functions import Lower
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from catalog import selectors, services
from catalog.filtersets import EntityFilterSet, LocationFilterSet
from catalog.forms import LocationRegisterForm, LocationTargetForm
from catalog.models import Entity
from catalog.refs import RefError, parse_ref
from core.htmx import render_page, wants_fragment

PAGE_SIZE = 50
LOCATION_ERRORS_SHOWN = 10
REFRESHES_SHOWN = 10
# Facet values are stored lower-cased; show the kinds people write.
KIND_LABELS = {
    kind.lower(): kind
    for kind in (
        *("Domain", "System", "Component", "Resource", "API", "Group", "User", "Location", "Template"),
        *("EditTemplate", "ReverseProvisioningTemplate", "AccessControlRequestTemplate"),
    )
}
# The kinds the entity list opens on: what people browse. Locations and templates are the platform's plumbing,
# one pick away in the kind filter ("All kinds" or the kind itself).
BROWSED_KINDS = ("System", "Component", "API", "Resource", "Domain", "Group", "User")
ALL_KINDS = "all"
# What a row of the entity list reads: everything it shows comes from these columns (title, owner and type
# from the document), so a page costs the same queries for 3 entities or 50.
ENTITY_ROW_FIELDS = ("kind", "namespace", "name", "document", "has_errors", "orphan")
LINK_SCHEMES = ("http", "https", "mailto")
# The document is stored as jsonb, which keeps no key order: show the envelope in the order people write it.
ENVELOPE_ORDER = ("apiVersion", "kind", "metadata", "spec")
METADATA_ORDER = ("name", "namespace", "title", "description", "labels", "annotations", "tags", "links")


def _entity_url(ref: str) -> str | None:
    """The entity page of a canonical ``kind:namespace/name`` ref."""
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    if not (kind and namespace and name):
        return None
    return reverse("catalog:entity_detail", kwargs={"kind": kind, "namespace": namespace, "name": name})


def _in_order(mapping: dict, order: tuple[str, ...]) -> dict:
    return {key: mapping[key] for key in order if key in mapping} | {
        key: value for key, value in mapping.items() if key not in order
    }


def _document_yaml(document: dict) -> str:
    document = _in_order(document, ENVELOPE_ORDER)
    if isinstance(document.get("metadata"), dict):
        document["metadata"] = _in_order(document["metadata"], METADATA_ORDER)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


# --- Entities ------------------------------------------------------------------------------------------------


def _facet_options(facet: list[dict], selected: str, labels: dict[str, str] | None = None) -> list[dict]:
    """Select options of a facet: one per value whatever its case (filters compare case-insensitively), the value
    lower-cased for stable URLs, labelled as written."""
    selected = selected.strip().lower()
    options: dict[str, dict] = {}
    for row in facet:
        value = row["value"].lower()
        if value in options:
            options[value]["count"] += row["count"]
            continue
        label = (labels or {}).get(value, row["value"])
        options[value] = {"value": value, "label": label, "count": row["count"], "selected": value == selected}
    if selected and selected not in options:
        options[selected] = {"value": selected, "label": selected, "count": 0, "selected": True}
    return list(options.values())


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The entity list: filters with facet counts, search as you type, pages of 50, and where the errors are."""
    kind = request.GET.get("kind", "")
    data = request.GET.copy()
    entities = Entity.objects.only(*ENTITY_ROW_FIELDS)
    if kind == ALL_KINDS:
        data.pop("kind")
    elif not kind:
        # kinds are case-insensitive (the unique constraint is on Lower("kind")), as in the kind filter
        entities = entities.alias(kind_key=Lower("kind")).filter(kind_key__in=[kind.lower() for kind in BROWSED_KINDS])
    filterset = EntityFilterSet(data, queryset=entities)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "page": page, "fragment": wants_fragment(request), "kind": kind}
    if not context["fragment"]:
        facets = selectors.entity_facets(facets=["kind", "spec.type"])
        context |= {
            "all_kinds": ALL_KINDS,
            "browsed_kinds": ", ".join(BROWSED_KINDS),
            "kind_options": _facet_options(facets["kind"], kind, KIND_LABELS),
            "type_options": _facet_options(facets["spec.type"], request.GET.get("type", "")),
        } | _error_panel(request.user)
    return render_page(request, "catalog/home.html", context, partial="catalog/partials/entity_results.html")


def _error_panel(user) -> dict:
    """The processing-error panel, for the people who can fix something: staff see every error, the owners of
    failing locations see theirs; everyone else sees no panel."""
    locations_with_errors = selectors.location_errors_for(user=user)
    location_error_count = locations_with_errors.count()
    if not (user.is_staff or location_error_count):
        return {"show_errors": False}
    return {
        "show_errors": True,
        "entity_error_count": selectors.entity_error_count() if user.is_staff else 0,
        "location_error_count": location_error_count,
        "locations_with_errors": locations_with_errors[:LOCATION_ERRORS_SHOWN],
    }


def _dataproduct_url(entity: Entity) -> str | None:
    """The Builder's page of a data product (PRODUCT §9: ``/dp/<entity name>/``) for its System entity, the one
    with ``spec.type: dataproduct``; None for every other entity."""
    if entity.kind.lower() != "system" or entity.spec.get("type") != "dataproduct":
        return None
    return reverse("dp:dataproduct_detail", args=[entity.name])


def _entity_or_404(kind: str, namespace: str, name: str) -> Entity:
    entity = selectors.entity_get_by_name(kind=kind, namespace=namespace, name=name)
    if entity is None:
        raise Http404(f"No entity {kind}:{namespace}/{name} in the catalog")
    return entity


def _entity_context(entity: Entity) -> dict:
    """Relations and owner as links where the target is in the catalog (dangling refs stay text), safe links,
    and the document as YAML."""
    targets = {relation.target_ref for relation in entity.relations}
    owner = entity.spec.get("owner")
    owner_ref = None
    if isinstance(owner, str):
        try:
            owner_ref = parse_ref(owner, default_kind="group", default_namespace=entity.namespace).key
        except RefError:
            owner_ref = None
        else:
            targets.add(owner_ref)
    known = selectors.existing_refs(targets)
    links = []
    for link in entity.metadata.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            # A link's URL comes from a file anyone with Git access wrote: only safe schemes become hrefs.
            safe = urlsplit(link["url"]).scheme.lower() in LINK_SCHEMES
            links.append({"url": link["url"], "title": link.get("title") or link["url"], "safe": safe})
    tags = entity.metadata.get("tags")
    return {
        "entity": entity,
        "owner": owner if isinstance(owner, str) else None,
        "owner_url": _entity_url(owner_ref) if owner_ref in known else None,
        "relations": [
            {
                "type": relation.type,
                "target": relation.target_ref,
                "url": _entity_url(relation.target_ref) if relation.target_ref in known else None,
            }
            for relation in entity.relations
        ],
        "links": links,
        "dataproduct_url": _dataproduct_url(entity),
        "tags": [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else [],
        "document_yaml": entity.source_text or _document_yaml(entity.document),
    }


def _refresh_shown(location_id: int | None, refresh_id: str | None):
    """The refresh an entity page or location row shows: the one it polls (``?refresh=<id>``), else the latest
    unfinished one of the location, so that a page opened meanwhile shows it too."""
    if location_id is None:
        return None
    if refresh_id:
        return selectors.refresh_request_get(pk=refresh_id, location_id=location_id)
    return selectors.refresh_request_pending(location_id=location_id)


@require_GET
def entity_detail(request: HttpRequest, kind: str, namespace: str, name: str) -> HttpResponse:
    """The entity page. While a refresh of its location is queued, the page polls itself with ``?refresh=<id>``
    (htmx) and shows the refreshed entity when the worker is done."""
    entity = _entity_or_404(kind, namespace, name)
    context = _entity_context(entity) | {
        "refresh": _refresh_shown(entity.location_id, request.GET.get("refresh")),
        # the Location entities that brought it in, nearest first, and the location registered at the top
        "brought_in_by": [
            {"ref": selectors.entity_ref_text(parent), "url": _entity_url(parent.ref)}
            for parent, _ in selectors.entity_ancestry(entity)[1:]
        ],
        "origin": selectors.location_by_entity(entity),
    }
    return render_page(request, "catalog/entity_detail.html", context, partial="catalog/partials/entity_detail.html")


def _throttled(response: HttpResponse, exc: services.RefreshThrottled) -> HttpResponse:
    response["Retry-After"] = str(exc.retry_after)
    return response


@require_POST
def entity_refresh(request: HttpRequest, kind: str, namespace: str, name: str) -> HttpResponse:
    """Re-read the entity's location: at once when it is on this machine, else queued for the worker (202: the
    re-rendered detail polls until the result lands). htmx gets the detail, a plain form post a redirect."""
    entity = _entity_or_404(kind, namespace, name)
    try:
        refresh = services.entity_refresh(entity=entity, actor=request.user)
    except services.RefreshThrottled as exc:
        context = _entity_context(entity) | {"refresh_refused": str(exc)}
        template = "catalog/partials/entity_detail.html" if wants_fragment(request) else "catalog/entity_detail.html"
        return _throttled(render_page(request, template, context, status=429), exc)
    entity = selectors.entity_get_by_name(kind=kind, namespace=namespace, name=name)
    if entity is None:
        messages.info(request, f"{kind}:{namespace}/{name} is no longer in the catalog.")
        home_url = reverse("catalog:home")
        return HttpResponseClientRedirect(home_url) if wants_fragment(request) else redirect(home_url)
    queued = refresh is not None and not refresh.finished
    if wants_fragment(request):
        context = _entity_context(entity) | {"refresh": refresh}
        return render_page(request, "catalog/partials/entity_detail.html", context, status=202 if queued else 200)
    if refresh is None:
        messages.info(request, f"{entity.ref} is an orphan: no location emits it any more.")
    elif queued:
        messages.info(request, f"Refresh of {entity.ref} queued: this page shows the result when it lands.")
    else:
        messages.success(request, f"Refreshed {entity.ref}: {refresh.counts_text}.")
    return redirect(_entity_url(entity.ref))


# --- Locations -----------------------------------------------------------------------------------------------


def _location_row(request: HttpRequest, pk: int, *, refresh=None, status: int = 200) -> HttpResponse:
    """One re-rendered row of the location list, with the messages swapped in out of band."""
    location = get_object_or_404(selectors.location_list(), pk=pk)
    location.may_change = selectors.location_may_change(location=location, user=request.user)
    location.refresh = refresh if refresh is not None else selectors.refresh_request_pending(location_id=pk)
    return render_page(request, "catalog/partials/location_row_response.html", {"location": location}, status=status)


@require_GET
def location_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A location with its recent manual refreshes; htmx gets its row of the list (what a queued refresh polls,
    with ``?refresh=<id>``)."""
    if wants_fragment(request):
        return _location_row(request, pk, refresh=_refresh_shown(pk, request.GET.get("refresh")))
    location = get_object_or_404(selectors.location_list(), pk=pk)
    location.may_change = selectors.location_may_change(location=location, user=request.user)
    location.refresh = selectors.refresh_request_pending(location_id=pk)
    context = {
        "location": location,
        "refreshes": selectors.refresh_request_list(location_id=pk)[:REFRESHES_SHOWN],
        "entity_count": selectors.location_entity_count(location),
        "child_count": selectors.location_child_count(location),
    }
    return render_page(request, "catalog/location_detail.html", context)


@require_GET
def location_list(request: HttpRequest) -> HttpResponse:
    data = request.GET.copy()
    # registered locations unless asked otherwise ("Any" sends root=): a tree's children would bury them
    data.setdefault("root", "true")
    filterset = LocationFilterSet(data, queryset=selectors.location_list())
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    pending = selectors.refresh_requests_pending(location_ids=[location.pk for location in page])
    for location in page:
        location.may_change = selectors.location_may_change(location=location, user=request.user)
        location.refresh = pending.get(location.pk)
    return render_page(
        request,
        "catalog/location_list.html",
        {"filterset": filterset, "page": page},
        partial="catalog/partials/location_results.html",
    )


@require_POST
def location_refresh(request: HttpRequest, pk: int) -> HttpResponse:
    """Re-read a location: at once when it is on this machine, else queued for the worker (202: the row polls
    until the result lands)."""
    location = get_object_or_404(selectors.location_list(), pk=pk)
    try:
        refresh = services.location_refresh_request(location=location, actor=request.user)
    except services.RefreshThrottled as exc:
        messages.error(request, str(exc))
        if wants_fragment(request):
            return _throttled(_location_row(request, pk, status=429), exc)
        return redirect("catalog:location_list")
    if refresh.finished:
        messages.success(request, f"Refreshed {location}: {refresh.counts_text}.")
    else:
        messages.info(request, f"Refresh of {location} queued: its row shows the result when it lands.")
    if wants_fragment(request):
        return _location_row(request, pk, refresh=refresh, status=200 if refresh.finished else 202)
    return redirect("catalog:location_list")


@require_POST
def location_trust(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff mark a registered location trusted or not (``trusted=true|false``); the service says who may."""
    location = get_object_or_404(selectors.location_list(), pk=pk)
    trusted = request.POST.get("trusted") == "true"
    try:
        services.location_trust_set(location=location, trusted=trusted, actor=request.user)
    except services.CatalogConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{location} is {'now trusted' if trusted else 'no longer trusted'}.")
    if wants_fragment(request):
        return _location_row(request, pk)
    return redirect("catalog:location_list")


@require_POST
def location_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff record a location's repository as the own repository of the data products it holds (``adopted=true``)
    or no longer (``adopted=false``); the service says who may."""
    location = get_object_or_404(selectors.location_list(), pk=pk)
    adopted = request.POST.get("adopted", "true") == "true"
    try:
        services.location_adopt(location=location, adopted=adopted, actor=request.user)
    except services.CatalogConflict as exc:
        messages.error(request, str(exc))
    else:
        what = "is now the own repository of the data products it holds" if adopted else "is no longer adopted"
        messages.success(request, f"{location} {what}.")
    if wants_fragment(request):
        return _location_row(request, pk)
    return redirect("catalog:location_list")


@require_http_methods(["GET", "POST"])
def location_unregister(request: HttpRequest, pk: int) -> HttpResponse:
    """A confirmation page (GET), then the unregistering (POST) of a registered location and what it emitted."""
    location = get_object_or_404(selectors.location_list(), pk=pk)
    if location.is_root and not selectors.location_may_change(location=location, user=request.user):
        raise PermissionDenied("only staff or the person who registered a location may unregister it")
    error = None
    if request.method == "POST":
        try:
            services.location_unregister(location=location, actor=request.user)
        except services.CatalogConflict as exc:
            error = str(exc)
        else:
            messages.success(request, f"Unregistered {location} and the entities only it emitted.")
            return redirect("catalog:location_list")
    elif not location.is_root:
        error = f"{location} was produced by another location's targets; unregister that one."
    context = {
        "location": location,
        "error": error,
        "child_count": selectors.location_child_count(location),
        "entity_count": selectors.location_entity_count(location),
    }
    return render_page(request, "catalog/location_unregister.html", context, status=409 if error else 200)


@require_http_methods(["GET", "POST"])
def location_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Point a registered location at another target (staff or who registered it): it is read at once, and what
    only the old target held becomes orphaned. Refusals are shown next to the field."""
    location = get_object_or_404(selectors.location_list(), pk=pk)
    if not selectors.location_may_change(location=location, user=request.user):
        raise PermissionDenied("only staff or the person who registered a location may change it")
    initial = {"type": location.type, "target": location.target}
    form = LocationTargetForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.location_update(
                    location=location,
                    type=form.cleaned_data["type"],
                    target=form.cleaned_data["target"],
                    actor=request.user,
                )
            except (ValueError, PermissionDenied, services.CatalogConflict) as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Location {pk} now reads {form.cleaned_data['target']}.")
                return redirect("catalog:location_detail", pk=pk)
        status = 400
    context = {"location": location, "form": form}
    return render_page(request, "catalog/location_change.html", context, status=status)


@require_http_methods(["GET", "POST"])
def location_register(request: HttpRequest) -> HttpResponse:
    """ "Register existing entity": Analyze (a dry run that changes nothing) shows what would be imported, and
    Import (``confirm=1``) registers for real. Every refusal is shown next to the field it concerns."""
    form = LocationRegisterForm(request.POST or None, user=request.user)
    preview = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            confirm = request.POST.get("confirm") == "1"
            try:
                result = services.location_register(
                    type=form.cleaned_data["type"],
                    target=form.cleaned_data["target"],
                    actor=request.user,
                    trusted=form.cleaned_data.get("trusted", False),
                    dry_run=not confirm,
                )
            except PermissionDenied as exc:
                form.add_service_error(exc)
                status = 403
            except services.CatalogConflict as exc:
                form.add_service_error(exc)
                status = 409
            except ValueError as exc:
                form.add_service_error(exc)
            except ValidationError as exc:
                form.add_error("target", exc.messages)
            else:
                if not confirm:
                    preview = result
                    status = 200
                else:
                    location = result.location
                    added = result.counts.added
                    messages.success(request, f"Registered {location}: {added} entit{pluralize(added, 'y,ies')} added.")
                    if result.errors:
                        messages.warning(
                            request, f"{len(result.errors)} errors while reading it: see the location below."
                        )
                    return redirect("catalog:location_list")
    return render_page(request, "catalog/location_register.html", {"form": form, "preview": preview}, status=status)
