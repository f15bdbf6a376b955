"""Forms of the catalog's pages: registering a location and changing its target."""

from django import forms

from catalog.choices import LocationType

GIT_TARGET_HELP = (
    "Git: <repository URL>[#<branch>][:<path>], e.g. "
    "https://git.example.com/finance/cashflow.git#main:catalog-info.yaml. The branch defaults to the "
    "repository's default branch, the path to catalog-info.yaml. URL: the http(s) address of a YAML file. "
    "File: an absolute path under an allowed root."
)


class LocationTargetForm(forms.Form):
    """A location's type and target, and a service's refusal shown next to the field it names."""

    type = forms.ChoiceField(choices=LocationType.choices, initial=LocationType.GIT)
    target = forms.CharField(
        max_length=2048,
        help_text=GIT_TARGET_HELP,
        widget=forms.TextInput(attrs={"class": "mono", "autocomplete": "off", "spellcheck": "false"}),
    )

    def add_service_error(self, exc: Exception) -> None:
        """Put a service's refusal next to the field it names (``"type: …"``), else next to the target."""
        message = str(exc) or "you are not allowed to register this location"
        field, separator, rest = message.partition(": ")
        if separator and field in ("type", "target"):
            self.add_error(field, rest)
        else:
            self.add_error("target", message)


class LocationRegisterForm(LocationTargetForm):
    trusted = forms.BooleanField(
        required=False,
        label="Trusted",
        help_text="Templates and team membership are honoured only from trusted locations.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if not user.is_staff:
            # only staff may mark a location trusted (PRODUCT §3.2): others never see the choice
            del self.fields["trusted"]
