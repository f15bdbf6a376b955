"""The FilterSets of provisioning, one per model, shared by its pages and its API list endpoints: the adapter
registry, deployments and the environments' units."""

from __future__ import annotations

from datetime import UTC

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django_filters.fields import IsoDateTimeField

from provisioning.choices import ACTIVE_STATUSES, DeploymentOperation, DeploymentStatus, UnitStatus
from provisioning.models import Deployment, DeploymentUnit, TechAdapter

ENVIRONMENTS = [(name, name) for name in settings.MESHFORGE_ENVIRONMENTS]


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 date and time, sent to the database in UTC: PostgreSQL refuses offsets beyond ±15:59 that Python
    parses (``…-19:36``), which would otherwise be a 500."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Enter a date and time between the years 1 and 9999.", code="invalid") from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def _product(queryset, name, value):
    """A data product by entity name (``finance.cashflow.0``) or id (``urn:dmb:dp:finance:cashflow:0``)."""
    return queryset.filter(Q(product__entity_name__iexact=value) | Q(product__dp_id__iexact=value))


class TechAdapterFilterSet(django_filters.FilterSet):
    """``q`` searches the template id, URL and description; ``builtin`` is the built-in adapter's name (``mock``),
    ``is_builtin`` any of them."""

    q = django_filters.CharFilter(method="filter_q", label="Search")
    infrastructure_template_id = django_filters.CharFilter(lookup_expr="iexact", label="Infrastructure template id")
    environment = django_filters.ChoiceFilter(choices=ENVIRONMENTS)
    url = django_filters.CharFilter(lookup_expr="icontains", label="URL contains")
    async_validation = django_filters.BooleanFilter(label="Async validation")
    builtin = django_filters.CharFilter(lookup_expr="iexact", label="Built-in adapter")
    is_builtin = django_filters.BooleanFilter(method="filter_is_builtin", label="Built-in")

    class Meta:
        model = TechAdapter
        fields = ["q", "infrastructure_template_id", "environment", "url", "async_validation", "builtin", "is_builtin"]

    def filter_q(self, queryset, name, value):
        for word in value.split():
            queryset = queryset.filter(
                Q(infrastructure_template_id__icontains=word) | Q(url__icontains=word) | Q(description__icontains=word)
            )
        return queryset

    def filter_is_builtin(self, queryset, name, value):
        return queryset.exclude(builtin="") if value else queryset.filter(builtin="")


class DeploymentFilterSet(django_filters.FilterSet):
    """``product`` by entity name or id, ``created_by`` by username, ``active`` for those validating, awaiting
    confirmation or running."""

    product = django_filters.CharFilter(method="filter_product", label="Data product (entity name or id)")
    version = django_filters.CharFilter(label="Release version")
    environment = django_filters.ChoiceFilter(choices=ENVIRONMENTS)
    operation = django_filters.ChoiceFilter(choices=DeploymentOperation.choices)
    status = django_filters.MultipleChoiceFilter(choices=DeploymentStatus.choices)
    active = django_filters.BooleanFilter(method="filter_active", label="Active")
    remove_data = django_filters.BooleanFilter(label="Removes data")
    auto_start = django_filters.BooleanFilter(label="Started without a preview")
    retry_of = django_filters.NumberFilter(field_name="retry_of_id", label="Retry of deployment")
    created_by = django_filters.CharFilter(field_name="created_by_name", lookup_expr="iexact", label="Requested by")
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte", label="At or after")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lt", label="Before")
    finished_after = UtcIsoDateTimeFilter(field_name="finished_at", lookup_expr="gte", label="Finished at or after")
    finished_before = UtcIsoDateTimeFilter(field_name="finished_at", lookup_expr="lt", label="Finished before")

    class Meta:
        model = Deployment
        fields = [
            *("product", "version", "environment", "operation", "status", "active", "remove_data", "auto_start"),
            *("retry_of", "created_by", "created_after", "created_before", "finished_after", "finished_before"),
        ]

    def filter_product(self, queryset, name, value):
        return _product(queryset, name, value)

    def filter_active(self, queryset, name, value):
        return queryset.filter(status__in=ACTIVE_STATUSES) if value else queryset.exclude(status__in=ACTIVE_STATUSES)


class DeploymentUnitFilterSet(django_filters.FilterSet):
    """What each environment runs: ``data_product`` by entity name or id, ``release`` by version."""

    data_product = django_filters.CharFilter(method="filter_product", label="Data product (entity name or id)")
    environment = django_filters.ChoiceFilter(choices=ENVIRONMENTS)
    status = django_filters.ChoiceFilter(choices=UnitStatus.choices)
    release = django_filters.CharFilter(field_name="release__version", label="Release version")

    class Meta:
        model = DeploymentUnit
        fields = ["data_product", "environment", "status", "release"]

    def filter_product(self, queryset, name, value):
        return _product(queryset, name, value)
