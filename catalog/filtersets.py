"""FilterSets of the catalog, shared by the HTML lists and the API list endpoints."""

import re

import django_filters
from django.contrib.postgres.search import SearchQuery
from django.db.models import Exists, OuterRef

from catalog.choices import LocationType
from catalog.models import Entity, EntitySearch, Location
from catalog.selectors import relation_exists


def _has_row(key: str, value: str) -> Exists:
    return Exists(EntitySearch.objects.filter(entity=OuterRef("pk"), key=key, value=value.strip().lower()))


class EntityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="Search")
    kind = django_filters.CharFilter(method="filter_kind", label="Kind")
    type = django_filters.CharFilter(method="filter_type", label="Type")
    namespace = django_filters.CharFilter(method="filter_namespace", label="Namespace")
    owner = django_filters.CharFilter(method="filter_owner", label="Owner")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    has_errors = django_filters.BooleanFilter(label="Has errors")
    orphan = django_filters.BooleanFilter(label="Orphan")

    class Meta:
        model = Entity
        fields = ["q", "kind", "type", "namespace", "owner", "tag", "has_errors", "orphan"]

    def filter_q(self, queryset, name, value):
        """Every word typed must start a word of the name, title, description, type or tags (GIN-indexed)."""
        words = re.findall(r"[a-z0-9]+", value.lower())
        if not words:
            return queryset
        query = SearchQuery(" & ".join(f"{word}:*" for word in words), config="simple", search_type="raw")
        return queryset.filter(search_vector=query)

    def filter_kind(self, queryset, name, value):
        return queryset.filter(kind__iexact=value.strip())

    def filter_namespace(self, queryset, name, value):
        return queryset.filter(namespace__iexact=value.strip())

    def filter_type(self, queryset, name, value):
        return queryset.filter(_has_row("spec.type", value))

    def filter_owner(self, queryset, name, value):
        return queryset.filter(_has_row("spec.owner", value) | relation_exists("ownedBy", value.strip()))

    def filter_tag(self, queryset, name, value):
        return queryset.filter(_has_row("metadata.tags", value))


class LocationFilterSet(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=LocationType.choices)
    target = django_filters.CharFilter(lookup_expr="icontains")
    trusted = django_filters.BooleanFilter()
    root = django_filters.BooleanFilter(field_name="parent", lookup_expr="isnull", label="Registered (root)")
    has_errors = django_filters.BooleanFilter(method="filter_has_errors", label="Has errors")

    class Meta:
        model = Location
        fields = ["type", "target", "trusted", "root", "has_errors"]

    def filter_has_errors(self, queryset, name, value):
        return queryset.exclude(errors=[]) if value else queryset.filter(errors=[])
