"""The one door through which other apps validate a model (STYLE habit 11, as NetBox's ``CustomValidationMixin``):
a model that inherits :class:`CustomValidationMixin` sends :data:`post_clean` at the end of ``clean()``, so every
path that validates it (a form, the API, the admin, a command, a service calling ``full_clean()``) runs the same
checks, and the app that owns those checks (governance) subscribes without the model's app importing it.

A receiver raises ``ValidationError`` to refuse. Receivers that are costly (policy evaluation) cache their verdict
on the instance: ``full_clean()`` may run more than once for one action."""

from __future__ import annotations

from django.dispatch import Signal

# sent with ``sender`` (the model class) and ``instance`` after the model's own ``clean()`` succeeded
post_clean = Signal()


class CustomValidationMixin:
    """Send :data:`post_clean` after the model's own checks."""

    def clean(self) -> None:
        super().clean()
        post_clean.send(sender=self.__class__, instance=self)
