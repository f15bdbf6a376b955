"""``POST /api/dataproducts/validate-descriptor``: check a DPS descriptor (bare, or the tech adapter wrapper
``{dataProduct, componentIdToProvision}``) sent as JSON or as YAML text, without storing anything (PRODUCT §4.3):
leniently by default, strictly (what the Witboost tech adapters accept) with ``adapterReady``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.schema import error_responses
from core.yaml import YamlError, load
from dataproducts.descriptor.adapter import descriptor_adapter_problems
from dataproducts.descriptor.validate import component_descriptor_validate


class DescriptorValidateSerializer(serializers.Serializer):
    """Exactly one of ``descriptor`` (the document as JSON) and ``yaml`` (the document as YAML text)."""

    descriptor = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="The descriptor, or the wrapper {dataProduct, componentIdToProvision}.",
    )
    yaml = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="The same as YAML text (YAML 1.2, safe loading; at most 1 MiB).",
    )
    adapterReady = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Also require what the public Witboost tech adapters require (semanticLinking on output ports, "
            "connectionType on workloads, useCaseTemplateId on every component, tag labels, column sizes): the "
            "check every descriptor Meshforge writes passes."
        ),
    )

    def validate_yaml(self, value: str) -> object:
        try:
            return load(value, source="yaml")
        except YamlError as exc:
            # The loader names the place as yaml:<line>:<column>; the field name comes from the error key.
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs: dict) -> dict:
        given = [field for field in ("descriptor", "yaml") if field in attrs]
        if not given:
            raise serializers.ValidationError({"descriptor": ["Send the descriptor as `descriptor` (JSON) or `yaml`."]})
        if len(given) > 1:
            raise serializers.ValidationError({"yaml": ["Send either `descriptor` or `yaml`, not both."]})
        return {"document": attrs[given[0]], "adapter_ready": attrs.get("adapterReady", False)}


class DescriptorValidationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField(), help_text="`path: message`, one per problem.")


class DescriptorValidateView(APIView):
    """Validate a descriptor: 200 with ``valid`` and the problems, whether it is valid or not."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="dataproducts_validate_descriptor",
        description=(
            "Check a Data Product Specification descriptor, bare or wrapped as a tech adapter receives it "
            "(`{dataProduct, componentIdToProvision}`), against the DPS rules, and with `adapterReady: true` also "
            "against what the public Witboost tech adapters accept. Nothing is stored. An invalid "
            "descriptor is a 200 with `valid: false`; a request without `descriptor` or `yaml`, or YAML that does "
            "not parse, is a 400 naming the field."
        ),
        request=DescriptorValidateSerializer,
        responses={200: DescriptorValidationSerializer, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        body = DescriptorValidateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        document = body.validated_data["document"]
        if body.validated_data["adapter_ready"]:
            problems = descriptor_adapter_problems(document)
        else:
            problems = component_descriptor_validate(document)
        return Response(DescriptorValidationSerializer({"valid": not problems, "errors": problems}).data)
