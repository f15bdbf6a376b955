"""The forms of the provisioning pages: an adapter registry row (the model's ``clean()`` and constraints run on it,
so each error shows next to its field), and the Deploy and Undeploy requests of the Deployments tab."""

from __future__ import annotations

from django import forms
from django.conf import settings

from provisioning.models import TechAdapter
from provisioning.services import ADAPTER_FIELDS


def _environment_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in settings.MESHFORGE_ENVIRONMENTS]


class TechAdapterForm(forms.ModelForm):
    environment = forms.ChoiceField(choices=_environment_choices)

    class Meta:
        model = TechAdapter
        fields = ["infrastructure_template_id", "environment", *ADAPTER_FIELDS]
        widgets = {
            "infrastructure_template_id": forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
            "url": forms.URLInput(attrs={"class": "mono", "spellcheck": "false"}),
            "auth_env": forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
        }


class DeployForm(forms.Form):
    release = forms.CharField(max_length=63, help_text="The release's version.")
    environment = forms.CharField(max_length=63)


class UndeployForm(forms.Form):
    environment = forms.CharField(max_length=63)
    remove_data = forms.BooleanField(required=False, help_text="Also drop the data the components hold.")
