from rest_framework import serializers

from dataproducts.choices import ReleaseKind
from dataproducts.models import Component, DataProduct, Domain, Release


class ComponentSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="component_id", read_only=True)
    data_product = serializers.SlugRelatedField(slug_field="name", read_only=True)
    errors = serializers.ListField(source="entity.all_errors", child=serializers.CharField(), read_only=True)

    class Meta:
        model = Component
        fields = [
            "name",
            "id",
            "data_product",
            "slug",
            "kind",
            "title",
            "description",
            "version",
            "infrastructure_template_id",
            "use_case_template_id",
            "depends_on",
            "has_errors",
            "orphan",
            "errors",
        ]
        read_only_fields = fields


class DataProductSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="dp_id", read_only=True)
    entity_ref = serializers.CharField(source="entity.ref", read_only=True)
    components = ComponentSerializer(many=True, read_only=True)

    class Meta:
        model = DataProduct
        fields = [
            "name",
            "id",
            "entity_ref",
            "domain_name",
            "slug",
            "major",
            "title",
            "description",
            "owner_ref",
            "owner_team",
            "dev_group_ref",
            "data_product_owner",
            "maturity",
            "lifecycle",
            "version",
            "use_case_template_id",
            "tags",
            "repository_url",
            "has_errors",
            "orphan",
            "updated_at",
            "components",
        ]
        read_only_fields = fields


class DataProductListSerializer(DataProductSerializer):
    class Meta(DataProductSerializer.Meta):
        fields = [field for field in DataProductSerializer.Meta.fields if field != "components"]
        read_only_fields = fields


class CreateFromTemplateSerializer(serializers.Serializer):
    template = serializers.CharField(max_length=300, help_text="Template entity ref, e.g. template:dataproduct.")
    values = serializers.JSONField(help_text="Parameter values keyed by parameter name.")
    dry_run = serializers.BooleanField(default=False, help_text="Validate and render only; return the files.")


class CreationPlanSerializer(serializers.Serializer):
    entity_name = serializers.CharField()
    id = serializers.CharField()
    repository_url = serializers.CharField()
    files = serializers.DictField(child=serializers.CharField())


class EditSerializer(serializers.Serializer):
    values = serializers.JSONField(help_text="The edit template's parameter values.")
    base_revision = serializers.RegexField(
        r"^[0-9a-f]{40}$", help_text="The commit that last changed the file when the edit started."
    )
    dry_run = serializers.BooleanField(default=False, help_text="Return the diff without committing.")


class EditResultSerializer(serializers.Serializer):
    changed = serializers.BooleanField()
    commit = serializers.CharField(allow_blank=True)
    diff = serializers.CharField(help_text="Unified diff of catalog-info.yaml.")
    new_text = serializers.CharField()


class EditableSerializer(serializers.Serializer):
    template = serializers.CharField()
    base_revision = serializers.CharField()
    values = serializers.JSONField()


class DescriptorSerializer(serializers.Serializer):
    environment = serializers.CharField()
    valid = serializers.BooleanField()
    errors = serializers.ListField(child=serializers.CharField())
    descriptor = serializers.JSONField()


class DomainSerializer(serializers.ModelSerializer):
    class Meta:
        model = Domain
        fields = ["name", "title", "description", "owner_ref", "parent_name"]
        read_only_fields = fields


class DomainWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=63)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    owner_ref = serializers.CharField(max_length=200)
    parent = serializers.CharField(max_length=63, required=False, allow_blank=True, default="")


class TemplateSerializer(serializers.Serializer):
    ref = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    type = serializers.CharField(source="spec.type")
    description = serializers.SerializerMethodField()
    parameters = serializers.JSONField(source="spec.parameters")

    def get_description(self, entity) -> str:
        return entity.metadata.get("description") or ""


class ReleaseSerializer(serializers.ModelSerializer):
    promoted_from = serializers.SlugRelatedField(slug_field="version", read_only=True, allow_null=True)
    created_by = serializers.CharField(source="created_by_name", read_only=True)
    tag = serializers.SerializerMethodField(help_text="The Git tag of a stable release (empty for a draft).")

    class Meta:
        model = Release
        fields = [
            "version",
            "kind",
            "major",
            "minor",
            "patch",
            "snapshot",
            "commit",
            "repository_url",
            "tag",
            "promoted_from",
            "notes",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_tag(self, release) -> str:
        return f"v{release.version}" if release.is_stable else ""


class ReleaseDetailSerializer(ReleaseSerializer):
    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "descriptors"]
        read_only_fields = fields


class ReleaseCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=ReleaseKind.choices, help_text="draft: freeze the product now (a stable release promotes a draft)."
    )
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")

    def validate_kind(self, kind: str) -> str:
        if kind != ReleaseKind.DRAFT:
            raise serializers.ValidationError("a stable release is made by promoting a draft: POST …/releases/promote/")
        return kind


class ReleasePromoteSerializer(serializers.Serializer):
    version = serializers.CharField(
        max_length=63, required=False, allow_blank=True, default="", help_text="X.Y.Z (default: the suggested one)."
    )
    draft = serializers.CharField(
        max_length=63, required=False, allow_blank=True, default="", help_text="The draft (default: the latest)."
    )
    notes = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
