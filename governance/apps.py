"""Computational governance: policies evaluated against descriptors before anything reaches an environment."""

from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = "Governance"
