"""The provisioning API: the adapter registry (everyone signed in reads, staff write through ``adapter_save``),
deployments (list with the shared FilterSet, one with its steps, deploy and undeploy requests, confirm, cancel,
retry), and what each environment runs of a data product. Service refusals map through ``core.errors``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import error_responses
from core.errors import api_exception
from provisioning import selectors, services
from provisioning.api.serializers import (
    DeploymentDetailSerializer,
    DeploymentRequestSerializer,
    DeploymentSerializer,
    DeploymentUnitSerializer,
    TechAdapterSerializer,
)
from provisioning.choices import DeploymentOperation, UnitStatus
from provisioning.filtersets import DeploymentFilterSet, DeploymentUnitFilterSet, TechAdapterFilterSet
from provisioning.models import DeploymentUnit, TechAdapter


@contextmanager
def provisioning_errors() -> Iterator[None]:
    """Turn provisioning's refusals into API answers by the status each carries: 400 naming the field, 403, 409
    naming the active deployment."""
    try:
        yield
    except Exception as exc:
        answer = api_exception(exc)
        if answer is None:
            raise
        raise answer from exc


def _may_run_required(product, user) -> None:
    """403 before anything else for whoever the service would refuse anyway (another team's member)."""
    if not services.deployment_may_run(product=product, user=user):
        raise exceptions.PermissionDenied(f"only the owners of {product.entity_name} may deploy it")


class StaffOnly(IsAdminUser):
    message = "only the platform team (staff) changes the adapter registry"


@extend_schema_view(
    list=extend_schema(responses={200: TechAdapterSerializer(many=True), **error_responses(400, 404)}),
    retrieve=extend_schema(responses={200: TechAdapterSerializer, **error_responses(404)}),
    create=extend_schema(responses={201: TechAdapterSerializer, **error_responses(400, 403)}),
    partial_update=extend_schema(responses={200: TechAdapterSerializer, **error_responses(400, 403, 404)}),
    destroy=extend_schema(responses={204: None, **error_responses(403, 404)}),
)
class TechAdapterViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The adapter registry: which tech adapter (a base URL speaking the Tech Adapter API 2.2) provisions the
    components of an infrastructure template in an environment. Every change is validated by the model and
    audited."""

    serializer_class = TechAdapterSerializer
    filterset_class = TechAdapterFilterSet
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return selectors.adapter_list()

    def get_permissions(self):
        # staff only: the rest are refused before their body is read
        if self.action in ("create", "partial_update", "destroy"):
            return [StaffOnly()]
        return super().get_permissions()

    def perform_create(self, serializer) -> None:
        serializer.instance = services.adapter_save(
            adapter=TechAdapter(**serializer.validated_data), actor=self.request.user
        )

    def perform_update(self, serializer) -> None:
        adapter = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(adapter, field, value)
        serializer.instance = services.adapter_save(adapter=adapter, actor=self.request.user)

    def perform_destroy(self, instance: TechAdapter) -> None:
        services.adapter_delete(adapter=instance, actor=self.request.user)


@extend_schema_view(
    list=extend_schema(responses={200: DeploymentSerializer(many=True), **error_responses(400, 404)}),
    retrieve=extend_schema(responses={200: DeploymentDetailSerializer, **error_responses(404)}),
)
class DeploymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deployments, newest first. A request is checked by the worker (``validating``), then waits for ``confirm``
    with its preview (``ready``) unless ``auto_start``; at most one is active per data product and environment."""

    filterset_class = DeploymentFilterSet

    def get_queryset(self):
        queryset = selectors.deployment_list()
        return queryset.prefetch_related("tasks") if self.action == "retrieve" else queryset

    def get_serializer_class(self):
        return DeploymentDetailSerializer if self.action == "retrieve" else DeploymentSerializer

    @extend_schema(
        operation_id="provisioning_deployments_create",
        description=(
            "Deploy `release` of `data_product` to `environment` (`operation` deploy, the default), or undeploy what "
            "the environment runs (`operation` undeploy, with `remove_data` to drop the data). The answer is the "
            "new deployment, `validating`: poll it for its preview (`ready`) and `confirm` it, or pass `auto_start` "
            "to run it once checked. 400 names the field of an unknown product, release or environment; 403 for "
            "anyone but the product's owners and staff; 409 names the deployment still active."
        ),
        request=DeploymentRequestSerializer,
        responses={201: DeploymentSerializer, **error_responses(400, 403, 409)},
    )
    def create(self, request: Request) -> Response:
        body = DeploymentRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        product = selectors.product_get(name=data["data_product"])
        if product is None:
            raise exceptions.ValidationError({"data_product": [f"no data product {data['data_product']!r}"]})
        _may_run_required(product, request.user)
        with provisioning_errors():
            if data["operation"] == DeploymentOperation.DEPLOY:
                release = selectors.release_of(product=product, version=data["release"])
                if release is None:
                    raise exceptions.ValidationError(
                        {"release": [f"{product.entity_name} has no release {data['release']!r}"]}
                    )
                deployment = services.deployment_request_create(
                    release=release, environment=data["environment"], actor=request.user, auto_start=data["auto_start"]
                )
            else:
                deployment = services.undeploy_request_create(
                    product=product,
                    environment=data["environment"],
                    actor=request.user,
                    remove_data=data["remove_data"],
                    auto_start=data["auto_start"],
                )
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)

    def _act(self, request: Request, service, answer_status: int = status.HTTP_200_OK) -> Response:
        deployment = self.get_object()
        _may_run_required(deployment.product, request.user)
        with provisioning_errors():
            result = service(deployment=deployment, actor=request.user)
        return Response(DeploymentSerializer(result).data, status=answer_status)

    @extend_schema(
        request=None,
        description="Start a deployment awaiting confirmation (`ready`); 409 in any other state.",
        responses={200: DeploymentSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str) -> Response:
        return self._act(request, services.deployment_confirm)

    @extend_schema(
        request=None,
        description="Drop a deployment that has not started (`validating` or `ready`); 409 once it runs.",
        responses={200: DeploymentSerializer, **error_responses(403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._act(request, services.deployment_cancel)

    @extend_schema(
        request=None,
        description=(
            "Run a failed, refused or cancelled deployment again: the answer is the new deployment, checked again "
            "and started as soon as it passes. 409 for one that did not fail, or while another is active."
        ),
        responses={201: DeploymentSerializer, **error_responses(400, 403, 404, 409)},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        return self._act(request, services.deployment_retry, status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(
        description=(
            "What each environment runs of each data product. With `data_product`, every environment of that "
            "product in the platform's order, `not_deployed` where it never went."
        ),
        parameters=[OpenApiParameter("data_product", str, description="A data product's entity name or id.")],
        responses={200: DeploymentUnitSerializer(many=True), **error_responses(400, 404)},
    ),
)
class DeploymentUnitViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = DeploymentUnitSerializer
    filterset_class = DeploymentUnitFilterSet

    def get_queryset(self):
        return selectors.unit_list()

    def list(self, request: Request) -> Response:
        filterset = DeploymentUnitFilterSet(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise exceptions.ValidationError(filterset.errors)
        units = list(filterset.qs)
        name = filterset.form.cleaned_data.get("data_product")
        product = selectors.product_get(name=name) if name else None
        if product is not None:
            units += _never_deployed(product, filterset.form.cleaned_data)
            order = {environment: index for index, environment in enumerate(settings.MESHFORGE_ENVIRONMENTS)}
            units.sort(key=lambda unit: order.get(unit.environment, len(order)))
        page = self.paginate_queryset(units)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


def _never_deployed(product, wanted: dict) -> list[DeploymentUnit]:
    """Unsaved ``not_deployed`` units of ``product`` for the environments it has no row in, as far as the filters
    admit them (one never deployed runs no release)."""
    if wanted.get("status") not in (None, "", UnitStatus.NOT_DEPLOYED) or wanted.get("release"):
        return []
    # the filters may have left rows out: only an environment with no row at all was never deployed to
    have = set(DeploymentUnit.objects.filter(product=product).values_list("environment", flat=True))
    environment = wanted.get("environment")
    return [
        DeploymentUnit(product=product, environment=name)
        for name in settings.MESHFORGE_ENVIRONMENTS
        if name not in have and environment in (None, "", name)
    ]
