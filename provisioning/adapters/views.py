"""The HTTP side of the built-in tech adapters: Tech Adapter API 2.2 under ``/tech-adapters/<name>/``. It checks the
shared secret, parses and checks requests (a bad one is a 400 ``RequestValidationError`` naming the field), hands
them to the adapter's :class:`~provisioning.adapters.base.Backend`, and answers 200, 202 + token, 400 or 500
``SystemError`` exactly as the OpenAPI file says — the coordinator cannot tell these from an external adapter."""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core import yaml
from provisioning.adapters.base import (
    COMPONENT_DESCRIPTOR,
    DATAPRODUCT_DESCRIPTOR,
    AdapterRefusal,
    AdapterRequest,
    Backend,
    Outcome,
)
from provisioning.models import AdapterCall

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Meshforge-Adapter-Secret"  # noqa: S105 - a header name, not a secret
MAX_BODY_BYTES = 4 * 1024 * 1024


@cache
def backend_get(name: str) -> Backend:
    path = settings.PROVISIONING_BUILTIN_ADAPTERS.get(name)
    if path is None:
        raise Http404(f"no built-in adapter {name!r}")
    return import_string(path)()


def _refused(errors: list[str], *, field: str | None = None, message: str = "", problems=None, solutions=None):
    return JsonResponse(
        {
            "errors": errors,
            "userMessage": message or "; ".join(errors),
            "input": None,
            "inputErrorField": field,
            "moreInfo": {"problems": problems or errors, "solutions": solutions or []},
        },
        status=400,
    )


def _system_error(message: str, status: int = 500) -> JsonResponse:
    return JsonResponse(
        {
            "error": message,
            "userMessage": message,
            "input": None,
            "inputErrorField": None,
            "moreInfo": {"problems": [message], "solutions": []},
        },
        status=status,
    )


class _BadRequest(Exception):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _authorized(request: HttpRequest) -> bool:
    given = request.headers.get(SECRET_HEADER, "")
    return bool(given) and hmac.compare_digest(given.encode(), settings.MESHFORGE_ADAPTER_SECRET.encode())


def _body(request: HttpRequest) -> dict:
    if len(request.body) > MAX_BODY_BYTES:
        raise _BadRequest(f"the request is larger than {MAX_BODY_BYTES // (1024 * 1024)} MiB", "body")
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise _BadRequest(f"the body is not JSON: {exc}", "body") from None
    if not isinstance(body, dict):
        raise _BadRequest("the body must be a JSON object", "body")
    return body


def _yaml_object(text, field: str) -> dict:
    if not isinstance(text, str):
        raise _BadRequest(f"{field} must be a YAML string", field)
    try:
        document = yaml.load(text, source=field)
    except yaml.YamlError as exc:
        raise _BadRequest(f"{field} is not valid YAML: {exc}", field) from None
    if not isinstance(document, dict):
        raise _BadRequest(f"{field} must be a YAML mapping", field)
    return document


def _provisioning_request(body: dict) -> AdapterRequest:
    """A ``ProvisioningRequest`` parsed: a component request names a component of its data product."""
    kind = body.get("descriptorKind")
    if kind not in (COMPONENT_DESCRIPTOR, DATAPRODUCT_DESCRIPTOR):
        raise _BadRequest(
            f"descriptorKind must be {COMPONENT_DESCRIPTOR} or {DATAPRODUCT_DESCRIPTOR}, got {kind!r}", "descriptorKind"
        )
    document = _yaml_object(body.get("descriptor"), "descriptor")
    remove_data = body.get("removeData", False)
    if not isinstance(remove_data, bool):
        raise _BadRequest("removeData must be true or false", "removeData")
    latest = body.get("latestEnrichedDescriptor")
    latest = _yaml_object(latest, "latestEnrichedDescriptor") if latest else None
    if kind == DATAPRODUCT_DESCRIPTOR:
        return AdapterRequest(
            descriptor_kind=kind, data_product=document, remove_data=remove_data, latest_enriched=latest
        )
    data_product = document.get("dataProduct")
    component_id = document.get("componentIdToProvision")
    if not isinstance(data_product, dict):
        raise _BadRequest("descriptor.dataProduct must be the data product descriptor", "descriptor.dataProduct")
    if not isinstance(component_id, str) or not component_id:
        raise _BadRequest(
            "descriptor.componentIdToProvision must name a component", "descriptor.componentIdToProvision"
        )
    parsed = AdapterRequest(
        descriptor_kind=kind,
        data_product=data_product,
        component_id=component_id,
        remove_data=remove_data,
        latest_enriched=latest,
    )
    if parsed.component is None:
        raise _BadRequest(
            f"component {component_id!r} is not among the data product's components",
            "descriptor.componentIdToProvision",
        )
    return parsed


def adapter_endpoint(view):
    """Authorization, the backend, and the mapping of refusals and failures to the API's error bodies."""

    def wrapper(request: HttpRequest, name: str, *args, **kwargs):
        backend = backend_get(name)
        if not _authorized(request):
            return _system_error("missing or wrong adapter secret", status=401)
        try:
            return view(request, backend, *args, **kwargs)
        except _BadRequest as exc:
            return _refused([str(exc)], field=exc.field)
        except AdapterRefusal as exc:
            return _refused(
                exc.errors,
                field=exc.input_error_field,
                message=exc.user_message,
                problems=exc.problems,
                solutions=exc.solutions,
            )
        except Exception as exc:  # the adapter's own failure: a SystemError, never a traceback
            logger.exception("built-in adapter %s failed", name)
            return _system_error(f"{name} adapter error: {exc}")

    wrapper.__name__ = view.__name__
    # adapters authenticate callers by the shared secret, not by a session
    return login_not_required(csrf_exempt(wrapper))


def _count(backend: Backend, operation: str, component_id: str | None) -> int:
    """The number of this operation's calls for the component so far, this one included."""
    AdapterCall.objects.create(adapter=backend.name, operation=operation, component_id=component_id or "")
    return AdapterCall.objects.filter(
        adapter=backend.name, operation=operation, component_id=component_id or "", token=""
    ).count()


def _operate(request: HttpRequest, backend: Backend, operation: str):
    parsed = _provisioning_request(_body(request))
    attempt = _count(backend, operation, parsed.component_id)
    method = backend.provision if operation == "provision" else backend.unprovision
    wants_async = getattr(backend, "wants_async", None)
    delay = backend.delay(parsed) if hasattr(backend, "delay") else 0.0
    if wants_async is not None and wants_async(parsed):
        # answered on a later poll: the outcome is computed now and released at ready_at
        try:
            outcome = method(parsed, attempt=attempt).as_json()
            error_status = None
        except AdapterRefusal as exc:
            outcome = {"status": "FAILED", "result": exc.user_message}
            error_status = None
        call = AdapterCall.objects.create(
            adapter=backend.name,
            operation=f"{operation}-async",
            component_id=parsed.component_id or "",
            token=uuid.uuid4().hex,
            status="RUNNING",
            outcome=outcome,
            error_status=error_status,
            ready_at=timezone.now() + timedelta(seconds=delay),
        )
        return JsonResponse(call.token, status=202, safe=False)
    if delay:
        time.sleep(delay)
    kwargs = {"attempt": attempt} if backend.name == "mock" else {}
    return JsonResponse(method(parsed, **kwargs).as_json())


@require_POST
@adapter_endpoint
def provision(request: HttpRequest, backend: Backend):
    return _operate(request, backend, "provision")


@require_POST
@adapter_endpoint
def unprovision(request: HttpRequest, backend: Backend):
    return _operate(request, backend, "unprovision")


@require_GET
@adapter_endpoint
def provision_status(request: HttpRequest, backend: Backend, token: str):
    call = AdapterCall.objects.filter(adapter=backend.name, token=token).first()
    if call is None:
        return _system_error(f"Cannot find Provisioning Status for token {token}")
    if call.ready_at is not None and timezone.now() < call.ready_at:
        return JsonResponse({"status": "RUNNING", "result": ""})
    return JsonResponse(call.outcome)


def _validate(request: HttpRequest, backend: Backend) -> dict:
    parsed = _provisioning_request(_body(request))
    errors = backend.validate(parsed)
    return {"valid": not errors, **({"error": {"errors": errors}} if errors else {})}


@require_POST
@adapter_endpoint
def validate(request: HttpRequest, backend: Backend):
    return JsonResponse(_validate(request, backend))


@require_POST
@adapter_endpoint
def validate_async(request: HttpRequest, backend: Backend):
    result = _validate(request, backend)
    call = AdapterCall.objects.create(
        adapter=backend.name, operation="validate-async", token=uuid.uuid4().hex, outcome=result
    )
    return JsonResponse(call.token, status=202, safe=False)


@require_GET
@adapter_endpoint
def validate_status(request: HttpRequest, backend: Backend, token: str):
    call = AdapterCall.objects.filter(adapter=backend.name, token=token, operation="validate-async").first()
    if call is None:
        return _system_error(f"Cannot find Validation Status for token {token}")
    result = call.outcome
    info = {"publicInfo": {}, "privateInfo": {}}
    if not result.get("valid"):
        info["publicInfo"] = {"errors": (result.get("error") or {}).get("errors", [])}
    return JsonResponse({"status": "COMPLETED", "info": info, "valid": result.get("valid")})


@require_POST
@adapter_endpoint
def updateacl(request: HttpRequest, backend: Backend):
    body = _body(request)
    refs = body.get("refs")
    if not isinstance(refs, list) or not all(isinstance(ref, str) for ref in refs):
        raise _BadRequest("refs must be a list of strings", "refs")
    info = body.get("provisionInfo")
    if not isinstance(info, dict):
        raise _BadRequest("provisionInfo must be an object with request and result", "provisionInfo")
    parsed = _provisioning_request({"descriptorKind": COMPONENT_DESCRIPTOR, "descriptor": info.get("request")})
    _count(backend, "updateacl", parsed.component_id)
    outcome: Outcome = backend.update_acl(refs, parsed)
    return JsonResponse(outcome.as_json())


@require_POST
@adapter_endpoint
def reverse_provisioning(request: HttpRequest, backend: Backend):
    body = _body(request)
    catalog_info = body.get("catalogInfo")
    if not isinstance(catalog_info, dict):
        return JsonResponse(
            {
                "errors": ["catalogInfo is required"],
                "userMessage": "catalogInfo is required",
                "inputErrorField": "catalogInfo",
            },
            status=422,
        )
    params = body.get("params") if isinstance(body.get("params"), dict) else {}
    answer = backend.reverse_provision(
        str(body.get("useCaseTemplateId") or ""), str(body.get("environment") or ""), params, catalog_info
    )
    return JsonResponse(answer)


@require_GET
@adapter_endpoint
def reverse_provisioning_status(request: HttpRequest, backend: Backend, token: str):
    return _system_error(f"Cannot find Reverse Provisioning Status for token {token}")
