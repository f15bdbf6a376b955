from datetime import datetime, timedelta

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import ApiToken

NEVER = "never"
EXPIRY_CHOICES = [("30", "30 days"), ("90", "90 days"), ("365", "1 year"), (NEVER, "Never")]


class ApiTokenForm(forms.ModelForm):
    expires_in = forms.ChoiceField(
        label="Expires in",
        choices=EXPIRY_CHOICES,
        initial="90",
        help_text="After that the API refuses the token; create a new one then.",
    )

    class Meta:
        model = ApiToken
        fields = ["name"]
        widgets = {"name": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. CI pipeline"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.user = user
        # Unique checks need the digest; a placeholder never collides with a real sha256 digest.
        self.instance.key_digest = "pending"
        self.instance.key_prefix = "pending"

    def expires_at(self) -> datetime | None:
        """When the token created from this valid form expires (None: never)."""
        choice = self.cleaned_data["expires_in"]
        return None if choice == NEVER else timezone.now() + timedelta(days=int(choice))


class ThrottledSignInMixin:
    """Shows why the throttle (core.signin) refused a sign-in instead of "wrong password"; ``refusal`` holds it."""

    refusal = None

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            self.refusal = getattr(self.request, "signin_refusal", None)
            if self.refusal is None:
                raise
            raise ValidationError(self.refusal.message, code="throttled") from None


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    pass


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    pass
