from django import forms

from core.models import ApiToken


class ApiTokenForm(forms.ModelForm):
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
