"""The governance API's shapes: policies (writes checked by the model through ``policy_save``), evaluations, and
the ``evaluate`` request and its results."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from core.yaml import YamlError, load
from governance.models import Evaluation, Policy


class PolicySerializer(serializers.ModelSerializer):
    version = serializers.SerializerMethodField(help_text="The number of the policy's current version.")

    class Meta:
        model = Policy
        fields = [
            *("name", "description", "engine", "severity", "lifecycle", "environments", "selector", "timing"),
            *("body", "version", "created_at", "updated_at"),
        ]
        read_only_fields = ["version", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # uniqueness: the model's full_clean() in policy_save

    def get_version(self, policy: Policy) -> int | None:
        if hasattr(policy, "version_number"):  # the list's annotation (governance.selectors.policy_list)
            return policy.version_number
        last = policy.versions.order_by("-number").first()
        return last.number if last is not None else None


class EvaluationSerializer(serializers.ModelSerializer):
    policy = serializers.CharField(source="policy_version.name", read_only=True)
    policy_version = serializers.IntegerField(source="policy_version.number", read_only=True)
    product = serializers.CharField(source="product.dp_id", read_only=True)
    release = serializers.CharField(source="release.version", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Evaluation
        fields = [
            *("id", "policy", "policy_version", "product", "release", "version", "environment", "resource_id"),
            *("resource_kind", "outcome", "severity", "blocking", "messages", "duration_ms", "time", "timing"),
        ]
        read_only_fields = fields


class EvaluateSerializer(serializers.Serializer):
    descriptor = serializers.JSONField(help_text="The data product's descriptor: an object, or YAML text.")
    environment = serializers.ChoiceField(choices=list(settings.MESHFORGE_ENVIRONMENTS))
    previous = serializers.JSONField(
        required=False, allow_null=True, default=None, help_text="The previous stable release's descriptor."
    )
    policies = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        max_length=100,
        help_text=(
            "Names of stored policies (default: every applicable stored policy), or for staff only policy objects "
            "with the fields of a policy file (engine, body, selector…), evaluated without being saved."
        ),
    )

    def _document(self, value: object, field: str) -> dict | None:
        if isinstance(value, str):
            try:
                value = load(value, source=field)
            except YamlError as exc:
                raise serializers.ValidationError(str(exc)) from None
        if value is None and field == "previous":
            return None
        if not isinstance(value, dict):
            raise serializers.ValidationError("a descriptor is an object (or YAML text of one)")
        return value

    def validate_descriptor(self, value: object) -> dict:
        return self._document(value, "descriptor")

    def validate_previous(self, value: object) -> dict | None:
        return self._document(value, "previous")


class FindingSerializer(serializers.Serializer):
    path = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.CharField()


class PolicyResultSerializer(serializers.Serializer):
    policy = serializers.CharField(source="policy.name")
    lifecycle = serializers.CharField(source="policy.lifecycle")
    resource = serializers.CharField(source="resource_id")
    kind = serializers.CharField(source="resource_kind")
    environment = serializers.CharField()
    outcome = serializers.CharField()
    severity = serializers.CharField()
    blocking = serializers.BooleanField()
    messages = FindingSerializer(many=True, source="messages_list")


class EvaluateResultSerializer(serializers.Serializer):
    environment = serializers.CharField()
    blocking = serializers.BooleanField(help_text="True when an applicable enabled error policy failed.")
    results = PolicyResultSerializer(many=True)
