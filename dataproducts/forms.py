"""Forms of the Builder's pages that are not generated from a template's JSON Schema: the domain form, and the
identity check of the edit page. (The template forms are ``dataproducts.scaffold.forms``.)"""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

DOMAIN_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,61}[a-z0-9]$"


class DomainForm(forms.Form):
    """A domain: a name (fixed once created), a title, a description, its owner group and an optional parent.

    ``owner_choices`` are the Group entity refs the user may choose (``selectors.user_team_refs``) and
    ``parent_choices`` the names of the existing domains; ``editing`` shows the name read-only. A current value
    that is no longer among the choices (a group since removed from the catalog) stays selectable, so that
    editing the title does not force a new owner."""

    name = forms.CharField(
        max_length=63,
        validators=[
            RegexValidator(
                DOMAIN_NAME_PATTERN,
                "Use 2 to 63 lower-case letters, digits and hyphens, starting with a letter and not ending with a "
                "hyphen.",
            )
        ],
        help_text="The domain's entity name, e.g. finance. It becomes part of every data product id.",
    )
    title = forms.CharField(max_length=200, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    owner_ref = forms.ChoiceField(label="Owner group", help_text="The team that owns the domain.")
    parent = forms.ChoiceField(label="Parent domain", required=False, help_text="Makes it a subdomain.")

    def __init__(
        self,
        *args,
        owner_choices: list[str],
        parent_choices: list[str],
        editing: str | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        owners = list(dict.fromkeys(owner_choices))
        current_owner = self.initial.get("owner_ref")
        if current_owner and current_owner not in owners:
            owners.append(current_owner)
        self.fields["owner_ref"].choices = [("", "Choose a group"), *((ref, ref) for ref in owners)]
        # a domain cannot be its own parent
        parents = [name for name in parent_choices if name != editing]
        current_parent = self.initial.get("parent")
        if current_parent and current_parent not in parents:
            parents.append(current_parent)
        self.fields["parent"].choices = [("", "None (a top-level domain)"), *((name, name) for name in parents)]
        if editing is not None:
            self.fields["name"].disabled = True
            self.fields["name"].initial = editing
            self.fields["name"].help_text = "A domain's name cannot change: data product ids are made from it."

    def add_service_error(self, exc: Exception) -> None:
        """Show a service's refusal next to the field it names (``"title: too long"``), else above the form."""
        field, separator, message = str(exc).partition(": ")
        if separator and field in self.fields:
            self.add_error(field, message)
        else:
            self.add_error(None, str(exc))


class IdentityCheck:
    """The identity of the entity being edited (PRODUCT §4.1: name, domain, owner group and parent data product
    are never editable). The edit page shows them as disabled ``identity-*`` inputs; browsers do not send
    disabled inputs, so a submission that carries one with another value was crafted, and is refused naming
    the field."""

    LABELS = {"name": "Entity name", "domain": "Domain", "owner": "Owner group", "system": "Data product"}

    def __init__(self, *, name: str, domain: str, owner: str, system: str = ""):
        self.values = {"name": name, "domain": domain, "owner": owner, "system": system}

    @property
    def fields(self) -> list[dict]:
        return [
            {"key": key, "name": f"identity-{key}", "label": self.LABELS[key], "value": value}
            for key, value in self.values.items()
            if key != "system" or value
        ]

    def changes(self, data) -> list[str]:
        """One message per identity field that ``data`` (request.POST) sends with a value other than the
        current one."""
        problems = []
        for key, current in self.values.items():
            sent = data.get(f"identity-{key}")
            if sent is not None and sent != current:
                problems.append(
                    f"identity-{key}: the {self.LABELS[key].lower()} cannot be changed by an edit "
                    f"(it is {current!r}, the form sent {sent!r})"
                )
        return problems
