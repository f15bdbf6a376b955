"""The provisioning API's shapes: adapter registry rows (written through ``adapter_save``, whose ``full_clean()`` is
the validation), deployments with their steps, the deploy and undeploy request, and what each environment runs."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from provisioning.choices import DeploymentOperation, UnitStatus
from provisioning.models import Deployment, DeploymentTask, DeploymentUnit, TechAdapter
from provisioning.services import ADAPTER_FIELDS


def _environment_field(**kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(settings.MESHFORGE_ENVIRONMENTS), **kwargs)


class TechAdapterSerializer(serializers.ModelSerializer):
    environment = _environment_field()

    class Meta:
        model = TechAdapter
        fields = [
            "id",
            "infrastructure_template_id",
            "environment",
            *ADAPTER_FIELDS,
            "async_validation_unsupported",
            "builtin",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "async_validation_unsupported", "builtin", "created_at", "updated_at"]
        # the unique template and environment: the model's full_clean() in adapter_save says it (one door)
        validators = []


class DeploymentSerializer(serializers.ModelSerializer):
    data_product = serializers.CharField(source="product.entity_name", read_only=True)
    data_product_id = serializers.CharField(source="product.dp_id", read_only=True)
    created_by = serializers.CharField(source="created_by_name", read_only=True)
    retry_of = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    problems = serializers.JSONField(read_only=True, help_text="[{source, path, message}] that refused it.")
    warnings = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Deployment
        fields = [
            *("id", "data_product", "data_product_id", "operation", "version", "environment", "status"),
            *("remove_data", "auto_start", "problems", "warnings", "error", "retry_of", "created_by", "created_at"),
            *("validated_at", "started_at", "finished_at"),
        ]
        read_only_fields = fields


class AdapterErrorSerializer(serializers.Serializer):
    """What the adapter said when a step failed, verbatim (a RequestValidationError's or SystemError's fields)."""

    kind = serializers.CharField()
    reason = serializers.CharField()
    status_code = serializers.IntegerField(allow_null=True)
    user_message = serializers.CharField(allow_blank=True)
    errors = serializers.ListField(child=serializers.CharField())
    input = serializers.CharField(allow_null=True)
    input_error_field = serializers.CharField(allow_null=True)
    problems = serializers.ListField(child=serializers.CharField())
    solutions = serializers.ListField(child=serializers.CharField())
    body = serializers.CharField(allow_blank=True, help_text="The adapter's answer as it came (up to 64 KiB).")


class DeploymentTaskSerializer(serializers.ModelSerializer):
    component_id = serializers.CharField(help_text="Blank: the data-product-level step.")
    adapter_error = serializers.SerializerMethodField(help_text="What the adapter said when the step failed.")
    info = serializers.SerializerMethodField(help_text="The adapter's info (publicInfo, privateInfo) on success.")
    logs = serializers.JSONField(help_text="The adapter's logs: [{timestamp, level, message, phase}].")
    depends_on = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = DeploymentTask
        fields = [
            *("id", "component_id", "name", "kind", "operation", "layer", "depends_on", "adapter_url", "status"),
            *("attempts", "token", "error", "adapter_error", "info", "logs", "started_at", "finished_at"),
        ]
        read_only_fields = fields

    def _response(self, task: DeploymentTask) -> dict:
        return task.response if isinstance(task.response, dict) else {}

    @extend_schema_field(AdapterErrorSerializer(allow_null=True))
    def get_adapter_error(self, task: DeploymentTask) -> dict | None:
        said = self._response(task).get("error")
        return said if isinstance(said, dict) else None

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_info(self, task: DeploymentTask) -> dict | None:
        info = self._response(task).get("info")
        return info if isinstance(info, dict) else None


class DeploymentDetailSerializer(DeploymentSerializer):
    tasks = DeploymentTaskSerializer(many=True, read_only=True)
    descriptor = serializers.JSONField(read_only=True, help_text="The data product descriptor it deploys.")

    class Meta(DeploymentSerializer.Meta):
        fields = [*DeploymentSerializer.Meta.fields, "descriptor", "tasks"]
        read_only_fields = fields


class DeploymentRequestSerializer(serializers.Serializer):
    """Deploy ``release`` of ``data_product`` to ``environment``, or undeploy what the environment runs of it."""

    data_product = serializers.CharField(max_length=63, help_text="The data product's entity name.")
    environment = _environment_field()
    operation = serializers.ChoiceField(choices=DeploymentOperation.choices, default=DeploymentOperation.DEPLOY)
    release = serializers.CharField(
        max_length=63, required=False, help_text="The release's version (deploy only; undeploy takes what runs)."
    )
    remove_data = serializers.BooleanField(default=False, help_text="Undeploy only: also drop the data.")
    auto_start = serializers.BooleanField(
        default=False, help_text="Run as soon as the checks pass, without waiting for a confirmation."
    )

    def validate(self, data: dict) -> dict:
        deploy = data["operation"] == DeploymentOperation.DEPLOY
        if deploy and not data.get("release"):
            raise serializers.ValidationError({"release": ["a deploy names the release's version"]})
        if not deploy and data.get("release"):
            raise serializers.ValidationError({"release": ["an undeploy takes what the environment runs: no release"]})
        if deploy and data["remove_data"]:
            raise serializers.ValidationError({"remove_data": ["only an undeploy removes data"]})
        return data


class DeploymentUnitSerializer(serializers.ModelSerializer):
    data_product = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=UnitStatus.choices, read_only=True)
    release = serializers.SerializerMethodField(help_text="The version the environment runs (null: none).")
    last_deployment = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    enriched_descriptor = serializers.JSONField(
        read_only=True, help_text="The descriptor with each component's adapter info, as last deployed."
    )

    class Meta:
        model = DeploymentUnit
        fields = ["data_product", "environment", "status", "release", "deployed_at", "last_deployment"]
        fields += ["enriched_descriptor"]
        read_only_fields = fields

    def get_data_product(self, unit: DeploymentUnit) -> str:
        return unit.product.entity_name if unit.product_id else self.context.get("data_product", "")

    def get_release(self, unit: DeploymentUnit) -> str | None:
        return unit.release.version if unit.release_id else None
