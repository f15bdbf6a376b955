"""The FilterSet of evaluations, shared by the governance pages and the API list endpoint."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import Q

from governance.choices import EvaluationTiming, PolicySeverity
from governance.engines import Outcome
from governance.models import Evaluation


class EvaluationFilterSet(django_filters.FilterSet):
    """``product`` by id (``urn:dmb:dp:…``) or entity name, ``policy`` by name; the rest by value."""

    product = django_filters.CharFilter(method="filter_product", label="Data product (id or entity name)")
    policy = django_filters.CharFilter(field_name="policy_version__policy__name", lookup_expr="iexact")
    policy_version = django_filters.NumberFilter(field_name="policy_version__number", label="Policy version")
    release = django_filters.CharFilter(field_name="release__version", label="Release version")
    version = django_filters.CharFilter()
    environment = django_filters.ChoiceFilter(choices=[(name, name) for name in settings.MESHFORGE_ENVIRONMENTS])
    resource_id = django_filters.CharFilter(label="Resource id")
    resource_kind = django_filters.CharFilter(label="Resource kind")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices)
    severity = django_filters.ChoiceFilter(choices=PolicySeverity.choices)
    blocking = django_filters.BooleanFilter()
    timing = django_filters.ChoiceFilter(choices=EvaluationTiming.choices)
    time_after = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="gte", label="At or after")
    time_before = django_filters.IsoDateTimeFilter(field_name="time", lookup_expr="lt", label="Before")

    class Meta:
        model = Evaluation
        fields = [
            *("product", "policy", "policy_version", "release", "version", "environment", "resource_id"),
            *("resource_kind", "outcome", "severity", "blocking", "timing", "time_after", "time_before"),
        ]

    def filter_product(self, queryset, name, value):
        return queryset.filter(Q(product__dp_id__iexact=value) | Q(product__entity_name__iexact=value))
