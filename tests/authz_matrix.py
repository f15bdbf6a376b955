"""The authorization matrix: who gets what from every URL of Meshforge, in the world of ``tests/world.py``.

Columns are the personas ``(anonymous, carol, bob, alice, platform)``: carol is in no team, bob in marketing, alice in
finance (the owner of the data product ``finance.ledger.0`` and of the location in the world), platform is staff.
Mutating methods are sent with an empty body (an empty form, or ``{}`` as JSON): whoever may not act gets 403 before
the body is even read; whoever may gets 400 for the empty body, or does it.

Every URL pattern of ``config.urls`` needs an entry here: ``tests/test_authz_matrix.py`` fails on one without, and on
an entry whose pattern is gone. Methods an entry leaves out must answer 405 (``"other"`` says otherwise). ``kwargs``
are the URL's parameters, filled in from the world (``{data_product.name}``); ``query`` is appended to the URL.
"""

from __future__ import annotations

from tests.authz import ADMIN_LOGIN, LOGIN, REDIRECT

R = REDIRECT
DP = {"name": "{data_product.name}"}
COMPONENT = {"name": "{data_product.name}", "slug": "{component.slug}"}
ENTITY = {"kind": "component", "namespace": "default", "name": "{entity.name}"}
LOCATION = {"pk": "{location.pk}"}
POLICY = {"name": "{policy.name}"}
DEPLOYMENT = {"pk": "{deployment.pk}"}
ADAPTER = {"pk": "{adapter.pk}"}
REVERSE = {"pk": "{reverse_provisioning.pk}"}

#                                                  anonymous  carol  bob   alice  platform
PAGES = {
    "healthz": {"GET": (200, 200, 200, 200, 200)},
    "login": {"GET": (200, R, R, R, R), "POST": (200, R, R, R, R), "other": R},
    "logout": {"POST": (LOGIN, LOGIN, LOGIN, LOGIN, LOGIN)},
    # an empty form is no form: the page again, nothing created
    "profile": {"GET": (LOGIN, 200, 200, 200, 200), "POST": (LOGIN, 200, 200, 200, 200)},
    "apitoken_revoke": {"kwargs": {"pk": "{token.pk}"}, "POST": (LOGIN, 404, 404, R, 404)},
    "marketplace:home": {"GET": (LOGIN, 200, 200, 200, 200)},
    # --- governance: everyone signed in reads; the platform team edits policies and runs the test bench ---
    "governance:home": {"GET": (LOGIN, 200, 200, 200, 200)},
    # an empty form names no engine: the page again with the errors
    "governance:policy_detail": {
        "kwargs": POLICY,
        "GET": (LOGIN, 200, 200, 200, 200),
        "POST": (LOGIN, 403, 403, 403, 400),
    },
    "governance:policy_lifecycle": {"kwargs": POLICY, "POST": (LOGIN, 403, 403, 403, 400)},
    "governance:policy_check": {"kwargs": POLICY, "POST": (LOGIN, 403, 403, 403, 400)},
    "governance:policy_bench": {"kwargs": POLICY, "POST": (LOGIN, 403, 403, 403, 400)},
    # the world has no queued bench run
    "governance:bench_run_detail": {"kwargs": {"pk": "0"}, "GET": (LOGIN, 403, 403, 403, 404)},
    # --- provisioning: everyone signed in reads; the product's owners deploy it; staff keep the adapter registry ---
    "provisioning:deployment_list": {"GET": (LOGIN, 200, 200, 200, 200)},
    "provisioning:deployment_detail": {"kwargs": DEPLOYMENT, "GET": (LOGIN, 200, 200, 200, 200)},
    # the world's deployment succeeded: nothing to confirm, cancel or retry (409 on the page, for its owners)
    "provisioning:deployment_confirm": {"kwargs": DEPLOYMENT, "POST": (LOGIN, 403, 403, 409, 409)},
    "provisioning:deployment_cancel": {"kwargs": DEPLOYMENT, "POST": (LOGIN, 403, 403, 409, 409)},
    "provisioning:deployment_retry": {"kwargs": DEPLOYMENT, "POST": (LOGIN, 403, 403, 409, 409)},
    # an empty form names no release or environment: the product's deployments again with the reason
    "provisioning:dataproduct_deploy": {"kwargs": DP, "POST": (LOGIN, 403, 403, 400, 400)},
    "provisioning:dataproduct_undeploy": {"kwargs": DP, "POST": (LOGIN, 403, 403, 400, 400)},
    "provisioning:adapter_list": {"GET": (LOGIN, 200, 200, 200, 200), "POST": (LOGIN, 403, 403, 403, 400)},
    "provisioning:adapter_detail": {
        "kwargs": ADAPTER,
        "GET": (LOGIN, 200, 200, 200, 200),
        "POST": (LOGIN, 403, 403, 403, 400),
    },
    "provisioning:adapter_delete": {"kwargs": ADAPTER, "POST": (LOGIN, 403, 403, 403, R)},
    # --- reverse provisioning: the product's owners and staff only; an empty form names no environment, an empty
    # confirm no base revision; the world's run awaits review, so its owners may discard it ---
    "provisioning-reverse:reverse_provisioning_component": {
        "kwargs": {"name": "{component.name}"},
        "GET": (LOGIN, 403, 403, 200, 200),
        "POST": (LOGIN, 403, 403, 400, 400),
    },
    "provisioning-reverse:reverse_provisioning_detail": {"kwargs": REVERSE, "GET": (LOGIN, 403, 403, 200, 200)},
    "provisioning-reverse:reverse_provisioning_apply": {"kwargs": REVERSE, "POST": (LOGIN, 403, 403, 400, 400)},
    "provisioning-reverse:reverse_provisioning_discard": {"kwargs": REVERSE, "POST": (LOGIN, 403, 403, R, R)},
    # --- the Builder ---
    "dataproducts:home": {"GET": (LOGIN, 200, 200, 200, 200)},
    "dataproducts:template_list": {"GET": (LOGIN, 200, 200, 200, 200)},
    "dataproducts:dataproduct_create_wizard": {
        "kwargs": {"template": "dataproduct"},
        "GET": (LOGIN, 200, 200, 200, 200),  # carol (no team) reads whom to ask instead of the wizard
        "POST": (LOGIN, 403, 400, 400, 400),
    },
    "dataproducts:domain_list": {"GET": (LOGIN, 200, 200, 200, 200)},
    "dataproducts:domain_create": {"GET": (LOGIN, 403, 403, 403, 200), "POST": (LOGIN, 403, 403, 403, 400)},
    "dataproducts:domain_edit": {
        "kwargs": {"name": "{domain.name}"},
        "GET": (LOGIN, 403, 403, 403, 200),
        "POST": (LOGIN, 403, 403, 403, 400),
    },
    "dp:dataproduct_detail": {"kwargs": DP, "GET": (LOGIN, 200, 200, 200, 200)},
    "dp:dataproduct_descriptor_download": {
        "kwargs": {**DP, "environment": "development"},
        "GET": (LOGIN, 200, 200, 200, 200),
    },
    "dp:dataproduct_edit": {"kwargs": DP, "GET": (LOGIN, 403, 403, 200, 200), "POST": (LOGIN, 403, 403, 400, 400)},
    # an empty form makes a draft (the notes are optional); the world has no draft to promote
    "dp:release_draft_create": {"kwargs": DP, "POST": (LOGIN, 403, 403, R, R)},
    "dp:release_promote": {"kwargs": DP, "POST": (LOGIN, 403, 403, 400, 400)},
    # the owners start major 1 of the world's product (its page, with the news); nothing to fill in
    "dp:release_major_create": {"kwargs": DP, "POST": (LOGIN, 403, 403, R, R)},
    "dp:component_detail": {"kwargs": COMPONENT, "GET": (LOGIN, 200, 200, 200, 200)},
    "dp:component_edit": {
        "kwargs": COMPONENT,
        "GET": (LOGIN, 403, 403, 200, 200),
        "POST": (LOGIN, 403, 403, 400, 400),
    },
    "dp:component_remove": {"kwargs": COMPONENT, "GET": (LOGIN, 403, 403, 200, 200), "POST": (LOGIN, 403, 403, R, R)},
    "dp:component_create_wizard": {
        "kwargs": {**DP, "template": "outputport"},
        "GET": (LOGIN, 403, 403, 200, 200),
        "POST": (LOGIN, 403, 403, 400, 400),
    },
    # --- the catalog: every signed-in person may read and refresh; locations change by their registrant or staff ---
    "catalog:home": {"GET": (LOGIN, 200, 200, 200, 200)},
    "catalog:entity_detail": {"kwargs": ENTITY, "GET": (LOGIN, 200, 200, 200, 200)},
    "catalog:entity_refresh": {"kwargs": ENTITY, "POST": (LOGIN, R, R, R, R)},
    "catalog:location_list": {"GET": (LOGIN, 200, 200, 200, 200)},
    "catalog:location_detail": {"kwargs": LOCATION, "GET": (LOGIN, 200, 200, 200, 200)},
    "catalog:location_refresh": {"kwargs": LOCATION, "POST": (LOGIN, R, R, R, R)},
    "catalog:location_trust": {"kwargs": LOCATION, "POST": (LOGIN, 403, 403, 403, R)},
    "catalog:location_adopt": {"kwargs": LOCATION, "POST": (LOGIN, 403, 403, 403, R)},
    "catalog:location_change": {
        "kwargs": LOCATION,
        "GET": (LOGIN, 403, 403, 200, 200),
        "POST": (LOGIN, 403, 403, 400, 400),
    },
    "catalog:location_unregister": {
        "kwargs": LOCATION,
        "GET": (LOGIN, 403, 403, 200, 200),
        "POST": (LOGIN, 403, 403, R, R),
    },
    "catalog:location_register": {"GET": (LOGIN, 200, 200, 200, 200), "POST": (LOGIN, 400, 400, 400, 400)},
    # --- the API's documents, pages for people ---
    "schema": {"GET": (401, 200, 200, 200, 200)},
    "api_docs": {"GET": (LOGIN, 200, 200, 200, 200)},
    "api_redoc": {"GET": (LOGIN, 200, 200, 200, 200)},
    "favicon.ico": {"GET": (301, 301, 301, 301, 301), "other": 301},
}

#                                                  anonymous  carol  bob   alice  platform
API = {
    "core-api:me": {"GET": (401, 200, 200, 200, 200)},
    "catalog-api:entities": {"GET": (401, 200, 200, 200, 200)},
    "catalog-api:entities_by_query": {"GET": (401, 200, 200, 200, 200), "POST": (401, 200, 200, 200, 200)},
    "catalog-api:entity_ancestry": {"kwargs": ENTITY, "GET": (401, 200, 200, 200, 200)},
    "catalog-api:entity_by_name": {"kwargs": ENTITY, "GET": (401, 200, 200, 200, 200)},
    "catalog-api:entity_by_uid": {
        "kwargs": {"uid": "{orphan.uid}"},
        "GET": (401, 200, 200, 200, 200),
        "DELETE": (401, 403, 403, 204, 204),
    },
    "catalog-api:entities_by_refs": {"POST": (401, 400, 400, 400, 400)},
    "catalog-api:entity_facets": {
        "query": "?facet=kind",
        "GET": (401, 200, 200, 200, 200),
        "POST": (401, 400, 400, 400, 400),
    },
    "catalog-api:refresh": {"POST": (401, 400, 400, 400, 400)},
    "catalog-api:refresh_request_detail": {"kwargs": {"pk": "{refresh.pk}"}, "GET": (401, 200, 200, 200, 200)},
    "catalog-api:validate_entity": {"POST": (401, 400, 400, 400, 400)},
    "catalog-api:location_list": {"GET": (401, 200, 200, 200, 200), "POST": (401, 400, 400, 400, 400)},
    "catalog-api:location_detail": {
        "kwargs": LOCATION,
        "GET": (401, 200, 200, 200, 200),
        "PUT": (401, 403, 403, 400, 400),
        "DELETE": (401, 403, 403, 204, 204),
    },
    "catalog-api:locations_by_query": {"POST": (401, 200, 200, 200, 200)},
    "catalog-api:location_by_entity": {"kwargs": ENTITY, "GET": (401, 200, 200, 200, 200)},
    "catalog-api:analyze_location": {"POST": (401, 400, 400, 400, 400)},
    "catalog-api:location_trust": {"kwargs": LOCATION, "POST": (401, 403, 403, 403, 400)},
    # adopted defaults to true; alice's location holds no data product to adopt
    "catalog-api:location_adopt": {"kwargs": LOCATION, "POST": (401, 403, 403, 403, 409)},
    # Backstage's 404 for any other path under /api/catalog/, after authentication
    "catalog-api:not_found": {"url": "/api/catalog/no-such-endpoint", "GET": (401, 404, 404, 404, 404), "other": 404},
    "dataproducts-api:validate_descriptor": {"POST": (401, 400, 400, 400, 400)},
    "dataproducts-api:data-product-list": {"GET": (401, 200, 200, 200, 200), "POST": (401, 400, 400, 400, 400)},
    "dataproducts-api:data-product-detail": {"kwargs": DP, "GET": (401, 200, 200, 200, 200)},
    "dataproducts-api:data-product-components": {"kwargs": DP, "POST": (401, 403, 403, 400, 400)},
    "dataproducts-api:data-product-descriptor": {"kwargs": DP, "GET": (401, 200, 200, 200, 200)},
    # releases: everyone reads them, the owners make them; an empty body names no kind (a draft is made on purpose),
    # and the world has no draft to promote
    "dataproducts-api:data-product-releases": {
        "kwargs": DP,
        "GET": (401, 200, 200, 200, 200),
        "POST": (401, 403, 403, 400, 400),
    },
    "dataproducts-api:data-product-releases-promote": {"kwargs": DP, "POST": (401, 403, 403, 400, 400)},
    # a new major takes no body: the owners make major 1 of the world's product
    "dataproducts-api:data-product-releases-major": {"kwargs": DP, "POST": (401, 403, 403, 201, 201)},
    # the world has no release 0.0.0; a release is never changed (400 for its owners, once it exists)
    "dataproducts-api:data-product-release-detail": {
        "kwargs": {**DP, "version": "0.0.0"},
        "GET": (401, 404, 404, 404, 404),
        "PUT": (401, 403, 403, 404, 404),
        "PATCH": (401, 403, 403, 404, 404),
        "DELETE": (401, 403, 403, 404, 404),
    },
    "dataproducts-api:data-product-edit": {
        "kwargs": DP,
        "GET": (401, 200, 200, 200, 200),
        "POST": (401, 403, 403, 400, 400),
    },
    "dataproducts-api:component-detail": {
        "kwargs": {"name": "{component.name}"},
        "GET": (401, 200, 200, 200, 200),
        "DELETE": (401, 403, 403, 204, 204),
    },
    "dataproducts-api:component-edit": {
        "kwargs": {"name": "{component.name}"},
        "GET": (401, 200, 200, 200, 200),
        "POST": (401, 403, 403, 400, 400),
    },
    "dataproducts-api:domain-list": {"GET": (401, 200, 200, 200, 200), "POST": (401, 403, 403, 403, 400)},
    "dataproducts-api:domain-detail": {
        "kwargs": {"name": "{domain.name}"},
        "GET": (401, 200, 200, 200, 200),
        "PATCH": (401, 403, 403, 403, 200),
    },
    "dataproducts-api:template-list": {"GET": (401, 200, 200, 200, 200)},
    # --- governance: everyone signed in reads policies and evaluations and evaluates; staff write policies ---
    "governance-api:policy-list": {"GET": (401, 200, 200, 200, 200), "POST": (401, 403, 403, 403, 400)},
    "governance-api:policy-detail": {
        "kwargs": {"name": "{policy.name}"},
        "GET": (401, 200, 200, 200, 200),
        "PATCH": (401, 403, 403, 403, 200),  # an empty change changes nothing
        "DELETE": (401, 403, 403, 403, 409),  # it judged something: deprecate it instead
    },
    "governance-api:evaluation-list": {"GET": (401, 200, 200, 200, 200)},
    "governance-api:evaluation-detail": {"kwargs": {"pk": "{evaluation.pk}"}, "GET": (401, 200, 200, 200, 200)},
    "governance-api:evaluate": {"POST": (401, 400, 400, 400, 400)},
    # --- provisioning: everyone signed in reads; the product's owners deploy (an empty body names no product);
    # staff keep the registry; the world's deployment succeeded, so it is neither confirmed, cancelled nor retried ---
    "provisioning-api:adapter-list": {"GET": (401, 200, 200, 200, 200), "POST": (401, 403, 403, 403, 400)},
    "provisioning-api:adapter-detail": {
        "kwargs": ADAPTER,
        "GET": (401, 200, 200, 200, 200),
        "PATCH": (401, 403, 403, 403, 200),  # an empty change changes nothing
        "DELETE": (401, 403, 403, 403, 204),
    },
    "provisioning-api:deployment-list": {"GET": (401, 200, 200, 200, 200), "POST": (401, 400, 400, 400, 400)},
    "provisioning-api:deployment-detail": {"kwargs": DEPLOYMENT, "GET": (401, 200, 200, 200, 200)},
    "provisioning-api:deployment-confirm": {"kwargs": DEPLOYMENT, "POST": (401, 403, 403, 409, 409)},
    "provisioning-api:deployment-cancel": {"kwargs": DEPLOYMENT, "POST": (401, 403, 403, 409, 409)},
    "provisioning-api:deployment-retry": {"kwargs": DEPLOYMENT, "POST": (401, 403, 403, 409, 409)},
    "provisioning-api:unit-list": {"GET": (401, 200, 200, 200, 200)},
    # --- reverse provisioning: an empty body names no component; the product's owners and staff read, apply (an
    # empty body names no base revision) and discard the world's run ---
    "provisioning-reverse-api:reverse-provisioning-list": {"POST": (401, 400, 400, 400, 400)},
    "provisioning-reverse-api:reverse-provisioning-detail": {"kwargs": REVERSE, "GET": (401, 403, 403, 200, 200)},
    "provisioning-reverse-api:reverse-provisioning-apply": {"kwargs": REVERSE, "POST": (401, 403, 403, 400, 400)},
    "provisioning-reverse-api:reverse-provisioning-discard": {"kwargs": REVERSE, "POST": (401, 403, 403, 200, 200)},
    # the API's JSON 404 for any other path under /api/, after authentication
    "api_not_found": {"url": "/api/no-such-endpoint", "GET": (401, 404, 404, 404, 404), "other": 404},
}

# The built-in tech adapters answer only callers holding the installation's adapter secret (the coordinator): nobody
# reaches them with a session, staff included, so nobody calls updateacl on them directly.
#                                                  anonymous  carol  bob   alice  platform
NO = (401, 401, 401, 401, 401)
ADAPTER = {"name": "postgres"}
TOKEN = {"name": "mock", "token": "0" * 32}
TECH_ADAPTERS = {
    "adapter_provision": {"kwargs": ADAPTER, "POST": NO},
    "adapter_unprovision": {"kwargs": ADAPTER, "POST": NO},
    "adapter_validate": {"kwargs": ADAPTER, "POST": NO},
    "adapter_validate_async": {"kwargs": ADAPTER, "POST": NO},
    "adapter_updateacl": {"kwargs": ADAPTER, "POST": NO},
    "adapter_reverse_provisioning": {"kwargs": ADAPTER, "POST": NO},
    "adapter_provision_status": {"kwargs": TOKEN, "GET": NO},
    "adapter_validate_status": {"kwargs": TOKEN, "GET": NO},
    "adapter_reverse_provisioning_status": {"kwargs": TOKEN, "GET": NO},
}

# The admin is the platform team's: AdminSite.has_permission sends everyone else to its login page, for every admin
# URL. Its own pages, one entry each; GET and POST only (the admin does not refuse other methods).
#                                                  anonymous  carol  bob   alice  platform
AL = ADMIN_LOGIN
ADMIN = {
    "admin:index": {"GET": (AL, AL, AL, AL, 200), "POST": (AL, AL, AL, AL, 200)},
    "admin:login": {"GET": (200, 200, 200, 200, R), "POST": (200, 200, 200, 200, 200)},
    # the admin sends people without staff rights from its logout to its index (and so to its login page)
    "admin:logout": {"GET": (AL, R, R, R, 405), "POST": (AL, R, R, R, LOGIN)},
    "admin:password_change": {"GET": (AL, AL, AL, AL, 200), "POST": (AL, AL, AL, AL, 200)},
    "admin:password_change_done": {"GET": (AL, AL, AL, AL, 200), "POST": (AL, AL, AL, AL, 405)},
    "admin:autocomplete": {"GET": (AL, AL, AL, AL, 403), "POST": (AL, AL, AL, AL, 405)},
    "admin:jsi18n": {"GET": (AL, AL, AL, AL, 200), "POST": (AL, AL, AL, AL, 405)},
    "admin:app_list": {"kwargs": {"app_label": "core"}, "GET": (AL, AL, AL, AL, 200), "POST": (AL, AL, AL, AL, 200)},
    "admin:view_on_site": {
        "kwargs": {"content_type_id": "{user_content_type}", "object_id": "{personas[alice].pk}"},
        "GET": (AL, AL, AL, AL, 404),
        "POST": (AL, AL, AL, AL, 404),
    },
    "admin:auth_user_password_change": {
        "kwargs": {"id": "{personas[alice].pk}"},
        "GET": (LOGIN, AL, AL, AL, 200),
        "POST": (LOGIN, AL, AL, AL, 200),
    },
    "admin/(?P<url>.*)$": {"kwargs": {"url": "nowhere/"}, "GET": (AL, AL, AL, AL, 404), "POST": (AL, AL, AL, AL, 404)},
}

# The admin's pages of each model (changelist, add, change, history, delete, and the object's short URL), by what the
# platform team may do with the model there: "add", "delete", and on the change page "edit" (fields to fill: an empty
# form is refused) or "save" (nothing editable: saving changes nothing). A model the admin shows needs an entry.
# Projections and the audit log are read-only: the catalog and the services write them.
ADMIN_MODELS = {
    "auth.group": {"add", "edit", "delete"},
    "auth.user": {"add", "edit", "delete"},
    "core.auditevent": set(),
    "core.apitoken": {"save", "delete"},
    "core.processheartbeat": {"save", "delete"},
    "core.signinfailure": {"delete"},
    "dataproducts.dataproduct": set(),
    "dataproducts.component": set(),
    "dataproducts.domain": set(),
    "dataproducts.dataproductreservation": {"save", "delete"},
    # a stable release refuses every change: its notes field is there, and saving answers the refusal (200)
    "dataproducts.release": {"edit"},
    "governance.policy": {"add", "edit", "delete"},
    "governance.waiver": {"add", "edit", "delete"},
    "governance.evaluation": set(),
    "provisioning.techadapter": {"add", "edit", "delete"},
    "provisioning.deployment": set(),
    "provisioning.deploymentunit": set(),
    "provisioning.adaptercall": set(),
    "provisioning.reverseprovisioning": set(),
}


def admin_model_expectations(page: str, may: set[str]) -> dict[str, tuple]:
    """GET and POST (empty) of one admin page of a model, for each persona."""
    allowed = {
        "changelist": (200, 200),
        "add": (200, 200) if "add" in may else (403, 403),
        "change": (200, 200 if "edit" in may else R if "save" in may else 403),
        "history": (200, 200),
        "delete": (200, 200) if "delete" in may else (403, 403),
        "object": (R, R),
    }[page]
    # the site's login requirement turns anonymous visitors away before the admin does
    return {method: (LOGIN, AL, AL, AL, status) for method, status in zip(("GET", "POST"), allowed, strict=True)}
