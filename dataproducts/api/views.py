"""The Builder's REST API: data products and components created from templates, their edits, descriptors and
releases, and the platform's domains. Every write goes through ``dataproducts.services`` (the same path as the UI
and the ``create_dataproduct`` and ``release`` commands)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import error_responses
from core.errors import api_exception
from dataproducts import selectors, services
from dataproducts.api.serializers import (
    ComponentSerializer,
    CreateFromTemplateSerializer,
    CreationPlanSerializer,
    DataProductListSerializer,
    DataProductSerializer,
    DescriptorSerializer,
    DomainSerializer,
    DomainWriteSerializer,
    EditableSerializer,
    EditResultSerializer,
    EditSerializer,
    ReleaseCreateSerializer,
    ReleaseDetailSerializer,
    ReleasePromoteSerializer,
    ReleaseSerializer,
    TemplateSerializer,
)
from dataproducts.filtersets import DataProductFilterSet
from dataproducts.gitops.diff import unified_diff


@contextmanager
def builder_errors(values_field: str = "values") -> Iterator[None]:
    """Turn the Builder's exceptions into API answers by the status each carries (``core.errors``): field errors
    400 (a values object's paths under ``values_field``), refusals 403, conflicts 409, failed steps 503."""
    try:
        yield
    except Exception as exc:
        answer = api_exception(exc, values_field=values_field)
        if answer is None:
            raise
        raise answer from exc


def _template(ref: str, *, kind: str = "template"):
    template = selectors.template_get(ref=ref, kind=kind)
    if template is None:
        raise exceptions.ValidationError({"template": [f"{ref!r} is not a template from a trusted location"]})
    return template


def _writer_required(data_product, user) -> None:
    """403 before the body is read for whoever the service would refuse anyway (another team's member)."""
    if data_product is not None and not selectors.dataproduct_may_write(data_product=data_product, user=user):
        team = data_product.owner_team or data_product.owner_ref or "its owner team"
        raise exceptions.PermissionDenied(f"only members of {team} may change {data_product.name}")


class StaffOnly(IsAdminUser):
    message = "only the platform team (staff) may create or change domains"


class EditMixin:
    """``GET …/edit/`` gives the edit template's current values; ``POST …/edit/`` previews or commits."""

    def _entity(self):
        raise NotImplementedError

    def _owner_product(self):
        """The data product whose owners may edit here (None: the service decides)."""
        raise NotImplementedError

    @extend_schema(methods=["get"], responses={200: EditableSerializer, **error_responses(400, 404, 409, 503)})
    @extend_schema(
        methods=["post"],
        request=EditSerializer,
        responses={200: EditResultSerializer, **error_responses(400, 403, 404, 409, 503)},
    )
    @action(detail=True, methods=["get", "post"])
    def edit(self, request: Request, name: str) -> Response:
        if request.method == "GET":
            return self.editable(request, name)
        return self.edit_apply(request, name)

    def _edit_template(self, entity):
        template = selectors.edit_template_for(entity=entity)
        if template is None:
            raise exceptions.NotFound(f"no edit template applies to {entity.name}")
        return template

    def editable(self, request: Request, name: str) -> Response:
        entity = self._entity()
        template = self._edit_template(entity)
        with builder_errors():
            current = selectors.entity_file(entity=entity)
            values = services.edit_initial(entity=entity, edit_template=template)
        return Response({"template": template.ref, "base_revision": current.revision, "values": values})

    def edit_apply(self, request: Request, name: str) -> Response:
        entity = self._entity()
        _writer_required(self._owner_product(), request.user)
        template = self._edit_template(entity)
        serializer = EditSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        arguments = {
            "entity": entity,
            "edit_template": template,
            "values": data["values"],
            "actor": request.user,
            "base_revision": data["base_revision"],
        }
        with builder_errors():
            plan = services.entity_edit_preview(**arguments)
            # entity_edit plans again under the same base revision: a file changed meanwhile is refused
            sha = "" if data["dry_run"] or not plan.changed else services.entity_edit(**arguments)
        return Response(
            {
                "changed": plan.changed,
                "commit": sha,
                "diff": unified_diff(plan.old_text, plan.new_text),
                "new_text": plan.new_text,
            }
        )


class NameLookupMixin:
    """Objects looked up by name: a name PostgreSQL cannot store (a NUL character) names nothing, a 404 rather
    than the DataError (500) the query would raise."""

    def get_object(self):
        if "\x00" in self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, ""):
            raise Http404
        return super().get_object()


@extend_schema_view(
    list=extend_schema(responses={200: DataProductListSerializer(many=True), **error_responses(400, 404)}),
    retrieve=extend_schema(responses={200: DataProductSerializer, **error_responses(404)}),
)
class DataProductViewSet(
    NameLookupMixin, EditMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Data products (projections of the catalog's System entities). Create one from a template with
    ``POST {template, values}``."""

    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    filterset_class = DataProductFilterSet

    def get_queryset(self):
        if self.action == "list":
            return selectors.dataproduct_list(user=self.request.user)
        return selectors.dataproduct_list(user=self.request.user).prefetch_related("components__entity")

    def get_serializer_class(self):
        return DataProductListSerializer if self.action == "list" else DataProductSerializer

    def _data_product(self):
        data_product = selectors.dataproduct_get(name=self.kwargs["name"])
        if data_product is None:
            raise Http404
        return data_product

    def _entity(self):
        return self._data_product().entity

    def _owner_product(self):
        return self._data_product()

    @extend_schema(
        request=CreateFromTemplateSerializer,
        responses={201: DataProductSerializer, 200: CreationPlanSerializer, **error_responses(400, 403, 409, 503)},
    )
    def create(self, request: Request) -> Response:
        serializer = CreateFromTemplateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = _template(data["template"])
        with builder_errors():
            if data["dry_run"]:
                plan = services.dataproduct_preview(template=template, values=data["values"], actor=request.user)
                return Response(_plan(plan))
            data_product = services.dataproduct_create(template=template, values=data["values"], actor=request.user)
        data_product = selectors.dataproduct_get(name=data_product.name)
        return Response(DataProductSerializer(data_product).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("environment", str, enum=list(settings.MESHFORGE_ENVIRONMENTS))],
        responses={200: DescriptorSerializer, **error_responses(400, 404)},
    )
    @action(detail=True, methods=["get"])
    def descriptor(self, request: Request, name: str) -> Response:
        environment = request.query_params.get("environment", settings.MESHFORGE_ENVIRONMENTS[0])
        if environment not in settings.MESHFORGE_ENVIRONMENTS:
            raise exceptions.ValidationError(
                {"environment": [f"expected one of {', '.join(settings.MESHFORGE_ENVIRONMENTS)}"]}
            )
        view = selectors.dataproduct_descriptor(data_product=self._data_product(), environment=environment)
        return Response(
            {"environment": environment, "valid": view.valid, "errors": view.errors, "descriptor": view.descriptor}
        )

    @extend_schema(
        request=CreateFromTemplateSerializer,
        responses={201: ComponentSerializer, 200: CreationPlanSerializer, **error_responses(400, 403, 404, 409, 503)},
    )
    @action(detail=True, methods=["post"])
    def components(self, request: Request, name: str) -> Response:
        data_product = self._data_product()
        _writer_required(data_product, request.user)
        serializer = CreateFromTemplateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = _template(data["template"])
        arguments = {"data_product": data_product, "template": template, "values": data["values"]}
        with builder_errors():
            if data["dry_run"]:
                return Response(_plan(services.component_preview(**arguments, actor=request.user)))
            component = services.component_create(**arguments, actor=request.user)
        return Response(ComponentSerializer(component).data, status=status.HTTP_201_CREATED)

    # --- releases (PRODUCT §4.4): drafts made and promoted here, never changed ---

    @extend_schema(methods=["get"], responses={200: ReleaseSerializer(many=True), **error_responses(404)})
    @extend_schema(
        methods=["post"],
        request=ReleaseCreateSerializer,
        responses={201: ReleaseDetailSerializer, **error_responses(400, 403, 404, 409, 503)},
    )
    @action(detail=True, methods=["get", "post"])
    def releases(self, request: Request, name: str) -> Response:
        """The product's releases, newest first (paginated); ``POST {kind: draft, notes}`` freezes it as a new
        draft."""
        data_product = self._data_product()
        if request.method == "GET":  # paginated as every list of the API
            page = self.paginate_queryset(selectors.release_list(data_product=data_product))
            return self.get_paginated_response(ReleaseSerializer(page, many=True).data)
        _writer_required(data_product, request.user)
        serializer = ReleaseCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with builder_errors(values_field=""):
            release = services.release_draft_create(
                data_product=data_product, actor=request.user, notes=serializer.validated_data["notes"]
            )
        return Response(ReleaseDetailSerializer(release).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReleasePromoteSerializer,
        responses={201: ReleaseDetailSerializer, **error_responses(400, 403, 404, 409, 503)},
    )
    @action(detail=True, methods=["post"], url_path="releases/promote", url_name="releases-promote")
    def releases_promote(self, request: Request, name: str) -> Response:
        """Promote a draft (the latest by default) to a stable release; 400 with ``errors.version`` for a version
        that does not keep the major or is not greater than the last stable, and ``errors.breaking_changes`` (each
        breaking difference) when the draft needs a new major."""
        data_product = self._data_product()
        _writer_required(data_product, request.user)
        serializer = ReleasePromoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with builder_errors(values_field=""):
            release = services.release_promote(
                data_product=data_product,
                actor=request.user,
                draft=data["draft"] or None,
                version=data["version"] or None,
                notes=data["notes"],
            )
        return Response(ReleaseDetailSerializer(release).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={201: DataProductSerializer, **error_responses(403, 404, 409, 503)})
    @action(detail=True, methods=["post"], url_path="releases/major", url_name="releases-major")
    def releases_major(self, request: Request, name: str) -> Response:
        """Start the product's next major version N+1 (the way out of a breaking change): branch ``release/<N+1>``
        of its repository with the ids moved to ``…:<N+1>``, registered as a data product of its own beside this one;
        the new product (201). 409 when major N+1 exists already."""
        data_product = self._data_product()
        _writer_required(data_product, request.user)
        with builder_errors(values_field=""):
            made = services.release_major_create(data_product=data_product, actor=request.user)
        return Response(DataProductSerializer(made).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses={200: ReleaseDetailSerializer, **error_responses(404)})
    @extend_schema(methods=["put", "patch", "delete"], request=None, responses=error_responses(400, 403, 404))
    @action(
        detail=True,
        methods=["get", "put", "patch", "delete"],
        url_path=r"releases/(?P<version>[0-9][^/]*)",
        url_name="release-detail",
    )
    def release_detail(self, request: Request, name: str, version: str) -> Response:
        """One release with its descriptors. Releases are history: a stable one is immutable, a draft is never
        overwritten (a new draft is made instead), so changing or deleting one is refused (400)."""
        data_product = self._data_product()
        if request.method != "GET":
            _writer_required(data_product, request.user)
        release = selectors.release_get(data_product=data_product, version=version)
        if release is None:
            raise exceptions.NotFound(f"{data_product.name} has no release {version}")
        if request.method == "GET":
            return Response(ReleaseDetailSerializer(release).data)
        if release.is_stable:
            reason = f"release {release.version} is stable: a stable release is immutable"
        else:
            reason = f"release {release.version} is a draft: drafts are never overwritten; make a new draft instead"
        raise exceptions.ValidationError({"version": [reason]})


@extend_schema_view(
    retrieve=extend_schema(responses={200: ComponentSerializer, **error_responses(404)}),
    destroy=extend_schema(responses={204: None, **error_responses(403, 404, 409, 503)}),
)
class ComponentViewSet(
    NameLookupMixin, EditMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Components of data products. ``DELETE`` removes the component's folder from the DP repository."""

    lookup_field = "name"
    lookup_value_regex = r"[^/]+"
    serializer_class = ComponentSerializer

    def get_queryset(self):
        return selectors.component_list()

    def _entity(self):
        return self.get_object().entity

    def _owner_product(self):
        return self.get_object().data_product

    def perform_destroy(self, instance) -> None:
        with builder_errors():
            services.component_remove(component=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(responses={200: DomainSerializer(many=True), **error_responses(404)}),
    retrieve=extend_schema(responses={200: DomainSerializer, **error_responses(404)}),
)
class DomainViewSet(NameLookupMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Domains. Staff create them (``POST``) and edit them (``PATCH``); each lives in Git as a Domain entity."""

    lookup_field = "name"
    lookup_value_regex = r"[^/]+"  # entity names may hold dots
    serializer_class = DomainSerializer

    def get_queryset(self):
        return selectors.domain_list()

    def get_permissions(self):
        # staff only: the rest are refused before their body is read
        if self.action in ("create", "partial_update"):
            return [StaffOnly()]
        return super().get_permissions()

    @extend_schema(
        request=DomainWriteSerializer, responses={201: DomainSerializer, **error_responses(400, 403, 409, 503)}
    )
    def create(self, request: Request) -> Response:
        serializer = DomainWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with builder_errors(values_field=""):
            domain = services.domain_create(
                name=data["name"],
                title=data["title"],
                description=data["description"],
                owner_ref=data["owner_ref"],
                parent=data["parent"] or None,
                actor=request.user,
            )
        return Response(DomainSerializer(domain).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DomainWriteSerializer, responses={200: DomainSerializer, **error_responses(400, 403, 404, 409, 503)}
    )
    def partial_update(self, request: Request, name: str) -> Response:
        domain = self.get_object()
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"non_field_errors": ["expected an object"]})
        serializer = DomainWriteSerializer(data={**dict(request.data.items()), "name": domain.name}, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with builder_errors(values_field=""):
            domain = services.domain_update(
                domain=domain,
                title=data.get("title", domain.title),
                description=data.get("description", domain.description),
                owner_ref=data.get("owner_ref", domain.owner_ref),
                parent=(data.get("parent", domain.parent_name) or None),
                actor=request.user,
            )
        return Response(DomainSerializer(domain).data)


class TemplateViewSet(viewsets.ViewSet):
    """Templates from trusted locations that create data products and components."""

    @extend_schema(
        parameters=[OpenApiParameter("type", str), OpenApiParameter("search", str)],
        responses={200: TemplateSerializer(many=True), **error_responses()},
    )
    def list(self, request: Request) -> Response:
        templates = selectors.template_list(
            type=request.query_params.get("type") or None, search=request.query_params.get("search", "")
        )
        return Response(TemplateSerializer(templates, many=True).data)


def _plan(plan) -> dict:
    return {
        "entity_name": plan.entity_name,
        "id": plan.id,
        "repository_url": plan.repository_url,
        "files": dict(plan.files),
    }
