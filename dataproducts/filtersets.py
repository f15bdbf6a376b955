"""The FilterSet of data products, shared by the Builder's "My data products" list and the API list endpoint."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.db.models.functions import Lower

from dataproducts.models import DataProduct


class DataProductFilterSet(django_filters.FilterSet):
    """Filters of the data product list. ``mine`` narrows to the products of the user's teams, so it needs
    ``request=`` (views) or ``request_user=`` (selectors, commands); without a signed-in user ``mine=true``
    matches nothing rather than everything."""

    q = django_filters.CharFilter(method="filter_q", label="Search")
    name = django_filters.CharFilter(lookup_expr="iexact")
    id = django_filters.CharFilter(field_name="dp_id", lookup_expr="iexact", label="Id")
    domain = django_filters.CharFilter(field_name="domain_name", lookup_expr="iexact", label="Domain")
    slug = django_filters.CharFilter(lookup_expr="iexact")
    major = django_filters.NumberFilter()
    owner = django_filters.CharFilter(field_name="owner_ref", lookup_expr="iexact", label="Owner group")
    owner_team = django_filters.CharFilter(lookup_expr="iexact", label="Owner team")
    dev_group = django_filters.CharFilter(field_name="dev_group_ref", lookup_expr="iexact", label="Development group")
    data_product_owner = django_filters.CharFilter(lookup_expr="iexact", label="Data product owner")
    maturity = django_filters.CharFilter(lookup_expr="iexact")
    lifecycle = django_filters.CharFilter(lookup_expr="iexact")
    version = django_filters.CharFilter()
    use_case_template_id = django_filters.CharFilter(label="Use case template id")
    tag = django_filters.CharFilter(method="filter_tag", label="Tag")
    has_errors = django_filters.BooleanFilter(label="Has errors")
    orphan = django_filters.BooleanFilter(label="Orphan")
    mine = django_filters.BooleanFilter(method="filter_mine", label="My teams' data products")

    class Meta:
        model = DataProduct
        fields = [
            *("q", "name", "id", "domain", "slug", "major", "owner", "owner_team", "dev_group"),
            *("data_product_owner", "maturity", "lifecycle", "version", "use_case_template_id", "tag"),
            *("has_errors", "orphan", "mine"),
        ]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, request_user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = request_user if request_user is not None else getattr(request, "user", None)

    def filter_q(self, queryset, name, value):
        """Every word typed must appear (anywhere, any case) in the name, title or description."""
        for word in value.split():
            queryset = queryset.filter(
                Q(name__icontains=word) | Q(title__icontains=word) | Q(description__icontains=word)
            )
        return queryset

    def filter_tag(self, queryset, name, value):
        return queryset.filter(tags__contains=[value.strip()])

    def filter_mine(self, queryset, name, value):
        user = self.user
        if user is None or not user.is_authenticated:
            return queryset.none() if value else queryset
        teams = user.groups.annotate(team=Lower("name")).values("team")  # owner_team is lower case (team_name)
        return queryset.filter(owner_team__in=teams) if value else queryset.exclude(owner_team__in=teams)
