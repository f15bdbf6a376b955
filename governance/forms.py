"""The forms of the governance pages: a policy's edit form (its model's ``clean()`` has the engine check the body,
so a syntax error shows on the body field with its line and column) and the test bench's choices."""

from __future__ import annotations

from django import forms
from django.conf import settings

from dataproducts.models import DataProduct
from governance.choices import Timing
from governance.engines import engine_choices
from governance.models import Policy

# The fields the policy page edits; the name is the policy's key (its URL) and the lifecycle moves by its buttons.
EDITED_FIELDS = ("description", "engine", "severity", "environments", "selector", "timing", "body")


class PolicyForm(forms.ModelForm):
    engine = forms.ChoiceField(choices=())
    environments = forms.MultipleChoiceField(
        choices=(), required=False, widget=forms.CheckboxSelectMultiple, help_text="None ticked: every environment."
    )
    timing = forms.MultipleChoiceField(choices=Timing.choices, required=False, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Policy
        fields = list(EDITED_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "selector": forms.Textarea(attrs={"rows": 3, "class": "mono", "spellcheck": "false"}),
            "body": forms.Textarea(attrs={"rows": 20, "class": "mono code-input", "spellcheck": "false"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["engine"].choices = engine_choices()
        self.fields["environments"].choices = [(name, name) for name in settings.MESHFORGE_ENVIRONMENTS]


class BenchForm(forms.Form):
    """What the bench runs: the saved policy or the form's unsaved values, against every data product or one, on
    their working copy or their latest release, in one environment or each the policy runs in."""

    use = forms.ChoiceField(
        choices=[("saved", "The saved policy"), ("form", "The form's unsaved values")], initial="saved"
    )
    source = forms.ChoiceField(
        choices=[("working", "Working copy"), ("release", "Latest release")], initial="working", label="Descriptor"
    )
    environment = forms.ChoiceField(choices=(), required=False)
    product = forms.CharField(
        required=False, max_length=63, label="Data product", help_text="An entity name; empty: every data product."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["environment"].choices = [("", "Each the policy runs in")] + [
            (name, name) for name in settings.MESHFORGE_ENVIRONMENTS
        ]

    def clean_product(self) -> str:
        name = self.cleaned_data["product"].strip()
        if name and not DataProduct.objects.filter(name=name).exists():
            raise forms.ValidationError(f"no data product {name!r} in the catalog")
        return name
