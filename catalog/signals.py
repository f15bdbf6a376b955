"""Signals other apps listen to instead of reaching into catalog processing.

``entities_changed`` is sent inside the processing transaction after entities were written, orphaned or
re-checked, with ``refs`` (ref keys of the entities touched) and ``system_keys`` (the data products they are or
belong to). Receivers keep their projections in step in the same transaction, so a projection and the
entities it is drawn from are committed together."""

from django.dispatch import Signal

entities_changed = Signal()
