"""The governance API: policies (everyone signed in reads, staff write through ``policy_save``), evaluations
(read, with the shared FilterSet), and ``POST evaluate``, the gate's verdict on a descriptor for a CI pipeline."""

from __future__ import annotations

from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.schema import error_responses
from governance import selectors, services
from governance.api.serializers import (
    EvaluateResultSerializer,
    EvaluateSerializer,
    EvaluationSerializer,
    PolicySerializer,
)
from governance.choices import Lifecycle
from governance.filtersets import EvaluationFilterSet
from governance.models import Policy
from governance.policyfiles import PolicyFileError, policy_from_document


class StaffOnly(IsAdminUser):
    message = "only the platform team (staff) may change policies or evaluate inline policy bodies"


@extend_schema_view(
    list=extend_schema(responses={200: PolicySerializer(many=True), **error_responses(400, 404)}),
    retrieve=extend_schema(responses={200: PolicySerializer, **error_responses(404)}),
    create=extend_schema(responses={201: PolicySerializer, **error_responses(400, 403)}),
    partial_update=extend_schema(responses={200: PolicySerializer, **error_responses(400, 403, 404)}),
    destroy=extend_schema(responses={204: None, **error_responses(403, 404, 409)}),
)
class PolicyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Policies (PRODUCT §5). Every change is a new version and an audit event; a policy that judged something
    cannot be deleted (its evaluations keep its versions): deprecate it instead."""

    lookup_field = "name"
    serializer_class = PolicySerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        # the list reads each policy's current version from an annotation; a write answers with the version it made
        return selectors.policy_list() if self.action == "list" else selectors.policy_list().model.objects.all()

    def get_object(self):
        if "\x00" in self.kwargs.get("name", ""):
            raise Http404
        return super().get_object()

    def get_permissions(self):
        # staff only: the rest are refused before their body is read
        if self.action in ("create", "partial_update", "destroy"):
            return [StaffOnly()]
        return super().get_permissions()

    def perform_create(self, serializer) -> None:
        serializer.instance = services.policy_save(policy=Policy(**serializer.validated_data), actor=self.request.user)

    def perform_update(self, serializer) -> None:
        policy = serializer.instance
        for field, value in serializer.validated_data.items():
            setattr(policy, field, value)
        serializer.instance = services.policy_save(policy=policy, actor=self.request.user)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        if instance.versions.filter(evaluations__isnull=False).exists():
            return Response(
                {"detail": f"{instance.name} has evaluations: deprecate it rather than delete it"},
                status=status.HTTP_409_CONFLICT,
            )
        try:
            services.policy_delete(policy=instance, actor=request.user)
        except ProtectedError:  # an evaluation written meanwhile
            return Response(
                {"detail": f"{instance.name} has evaluations: deprecate it rather than delete it"},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(responses={200: EvaluationSerializer(many=True), **error_responses(400, 404)}),
    retrieve=extend_schema(responses={200: EvaluationSerializer, **error_responses(404)}),
)
class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stored evaluations, newest first: the gate's (with their release, or blocking ones without) and the runtime
    schedule's."""

    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilterSet

    def get_queryset(self):
        return selectors.evaluation_list()


class EvaluateView(APIView):
    """Evaluate a descriptor against the applicable policies, storing nothing."""

    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="governance_evaluate",
        description=(
            "Run the policies that apply to a descriptor in one environment, as the gate would (selector, "
            "lifecycle, environments), and answer each result; nothing is stored. `policies` narrows to stored "
            "policies by name; policy objects (a policy file's fields) are for staff only (403 otherwise). A "
            "descriptor that is not an object or not YAML is a 400 naming `descriptor`."
        ),
        request=EvaluateSerializer,
        responses={200: EvaluateResultSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        body = EvaluateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policies = self._policies(request, data.get("policies"))
        runs = services.descriptor_evaluate(
            descriptor=data["descriptor"],
            environment=data["environment"],
            policies=policies,
            previous=data.get("previous"),
        )
        answer = {
            "environment": data["environment"],
            "blocking": any(run.blocking for run in runs),
            "results": [_run_fields(run) for run in runs],
        }
        return Response(EvaluateResultSerializer(answer).data)

    def _policies(self, request: Request, given: list | None) -> list[Policy] | None:
        if given is None:
            return None
        if any(not isinstance(item, str) for item in given) and not request.user.is_staff:
            raise exceptions.PermissionDenied(StaffOnly.message)
        names = [item for item in given if isinstance(item, str)]
        stored = Policy.objects.in_bulk(names, field_name="name") if names else {}
        policies, errors = [], {}
        for index, item in enumerate(given):
            if isinstance(item, str):
                if item not in stored:
                    errors[f"policies.{index}"] = [f"{item!r} is no stored policy"]
                else:
                    policies.append(stored[item])
                continue
            if not isinstance(item, dict):
                errors[f"policies.{index}"] = ["a policy name or a policy object"]
                continue
            document = {"name": f"inline-{index + 1}", "lifecycle": Lifecycle.ENABLED, **item}
            try:
                policies.append(policy_from_document(document, where=f"policies.{index}"))
            except PolicyFileError as exc:
                errors[f"policies.{index}"] = [str(exc).removeprefix(f"policies.{index}: ")]
        if errors:
            raise exceptions.ValidationError(errors)
        return policies


def _run_fields(run) -> dict:
    return {
        "policy": run.policy,
        "resource_id": run.resource_id,
        "resource_kind": run.resource_kind,
        "environment": run.environment,
        "outcome": str(run.outcome),
        "severity": str(run.severity),
        "blocking": run.blocking,
        "messages_list": run.messages(),
    }
