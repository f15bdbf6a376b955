"""Signals other apps listen to, so provisioning never imports them: a deployment run ended (the marketplace
re-indexes the product's environment)."""

from django.dispatch import Signal

# sent on commit with ``deployment`` when a run ends, succeeded or failed
deployment_finished = Signal()
