"""The reverse provisioning API (PRODUCT §6): ``POST {component, environment, params?}`` runs a component's adapter
and keeps its updates; ``GET …/<id>/`` shows them with the diff they make to ``catalog-info.yaml`` now;
``POST …/<id>/apply/ {base_revision}`` commits them, ``POST …/<id>/discard/`` drops them. The product's owners and
staff only; every write goes through :mod:`provisioning.reverse`, as the pages do."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import error_responses
from core.errors import ServiceError, api_exception
from dataproducts.gitops.diff import unified_diff
from dataproducts.selectors import component_get
from provisioning import reverse as services
from provisioning.choices import ReverseProvisioningStatus
from provisioning.models import ReverseProvisioning


@contextmanager
def service_errors() -> Iterator[None]:
    """A service's refusal as the API answers it, by the status it carries (``core.errors``)."""
    try:
        yield
    except Exception as exc:
        answer = api_exception(exc, values_field="updates")
        if answer is None:
            raise
        raise answer from exc


class ReverseProvisioningRunSerializer(serializers.Serializer):
    component = serializers.CharField(max_length=255, help_text="The component's entity name.")
    environment = serializers.CharField(max_length=63)
    params = serializers.JSONField(required=False, default=dict, help_text="The adapter's input params (an object).")


class ReverseProvisioningApplySerializer(serializers.Serializer):
    base_revision = serializers.RegexField(
        r"^[0-9a-f]{40}$", help_text="The revision of catalog-info.yaml the previewed diff was made against."
    )


class PreviewSerializer(serializers.Serializer):
    changed = serializers.BooleanField()
    revision = serializers.CharField(help_text="The base to apply with: the file's last commit now.")
    diff = serializers.CharField(help_text="Unified diff of catalog-info.yaml.")


class ReverseProvisioningSerializer(serializers.ModelSerializer):
    component = serializers.CharField(source="component_name")
    product = serializers.CharField(source="product.dp_id")
    adapter = serializers.CharField(source="adapter.infrastructure_template_id", default=None, allow_null=True)
    updates = serializers.JSONField(read_only=True, help_text="Dot path → value, as the adapter returned them.")
    preview = serializers.SerializerMethodField(help_text="The diff the updates make now (awaiting review only).")
    preview_errors = serializers.SerializerMethodField(help_text="Why the updates cannot be written, by path.")

    class Meta:
        model = ReverseProvisioning
        fields = [
            *("id", "component", "component_ref", "product", "environment", "adapter", "adapter_url", "status"),
            *("params", "updates", "logs", "error", "error_detail", "base_revision", "commit_sha"),
            *("created_by_name", "created_at", "finished_at", "decided_at", "preview", "preview_errors"),
        ]
        read_only_fields = fields

    def _preview(self, run: ReverseProvisioning) -> tuple[dict | None, dict | None]:
        # one preview per answer, shared by both fields
        cache = self.context.setdefault("previews", {})
        if run.pk not in cache:
            if run.status != ReverseProvisioningStatus.READY:
                cache[run.pk] = (None, None)
            else:
                try:
                    patch = services.reverse_provisioning_preview(run=run)
                except ServiceError as exc:
                    errors = getattr(exc, "errors", None)
                    cache[run.pk] = (None, errors if isinstance(errors, dict) else {"": [str(exc)]})
                else:
                    diff = unified_diff(patch.old_text, patch.new_text)
                    cache[run.pk] = ({"changed": patch.changed, "revision": patch.revision, "diff": diff}, None)
        return cache[run.pk]

    @extend_schema_field(PreviewSerializer(allow_null=True))
    def get_preview(self, run: ReverseProvisioning) -> dict | None:
        return self._preview(run)[0]

    @extend_schema_field(
        serializers.DictField(child=serializers.ListField(child=serializers.CharField()), allow_null=True)
    )
    def get_preview_errors(self, run: ReverseProvisioning) -> dict | None:
        return self._preview(run)[1]


@extend_schema_view(
    create=extend_schema(
        request=ReverseProvisioningRunSerializer,
        responses={201: ReverseProvisioningSerializer, **error_responses(400, 403, 409, 503)},
    ),
    retrieve=extend_schema(responses={200: ReverseProvisioningSerializer, **error_responses(403, 404)}),
)
class ReverseProvisioningViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reverse provisionings of components: run one (it answers once the adapter has), review its updates as a
    diff, then apply (a commit to the component's ``catalog-info.yaml``) or discard them."""

    serializer_class = ReverseProvisioningSerializer
    queryset = ReverseProvisioning.objects.select_related("product", "adapter")

    def get_object(self) -> ReverseProvisioning:
        run = services.reverse_provisioning_get(pk=self._pk())
        if run is None:
            raise Http404
        if not services.reverse_provisioning_may_run(product=run.product, user=self.request.user):
            raise exceptions.PermissionDenied(
                f"only the owners of {run.product.entity_name} may reverse-provision its components"
            )
        return run

    def _pk(self) -> int:
        value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field, "")
        if not str(value).isdigit():
            raise Http404
        return int(value)

    def create(self, request: Request) -> Response:
        serializer = ReverseProvisioningRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        component = component_get(name=data["component"])
        if component is None:
            raise exceptions.ValidationError({"component": [f"no component {data['component']!r} in the catalog"]})
        with service_errors():
            run = services.reverse_provisioning_run(
                component=component, environment=data["environment"], params=data["params"], actor=request.user
            )
        return Response(ReverseProvisioningSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReverseProvisioningApplySerializer,
        responses={200: ReverseProvisioningSerializer, **error_responses(400, 403, 404, 409, 503)},
    )
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        serializer = ReverseProvisioningApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            run = services.reverse_provisioning_apply(
                run=run, actor=request.user, base_revision=serializer.validated_data["base_revision"]
            )
        return Response(ReverseProvisioningSerializer(run).data)

    @extend_schema(request=None, responses={200: ReverseProvisioningSerializer, **error_responses(403, 404, 409)})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str) -> Response:
        run = self.get_object()
        with service_errors():
            run = services.reverse_provisioning_discard(run=run, actor=request.user)
        return Response(ReverseProvisioningSerializer(run).data)
