"""The ``mock`` adapter: succeeds, for demos and tests — after a delay, asynchronously (202 + token), or failing on
demand, as the component's ``specific.mock`` asks:

``delay`` seconds before finishing; ``async: true`` answers 202 and finishes on a later poll; ``fail`` one of
``validate``, ``provision``, ``unprovision``, ``updateacl`` (or ``true`` for provision) with ``message``;
``failTimes: N`` fails only the first N provisions (so a retry succeeds). Every call is counted per component
(``AdapterCall`` rows), which the crash tests read to prove nothing was provisioned twice."""

from __future__ import annotations

import time

from provisioning.adapters.base import DATAPRODUCT_DESCRIPTOR, AdapterRefusal, AdapterRequest, Backend, Outcome


def _flags(request: AdapterRequest) -> dict:
    flags = request.specific.get("mock")
    return flags if isinstance(flags, dict) else {}


def _fails(flags: dict, operation: str) -> bool:
    fail = flags.get("fail")
    if fail is True:
        return operation == "provision"
    if isinstance(fail, str):
        return operation in {part.strip() for part in fail.split(",")}
    if isinstance(fail, list):
        return operation in fail
    return False


def _delay(flags: dict) -> float:
    delay = flags.get("delay", 0)
    return min(float(delay), 60.0) if isinstance(delay, int | float) and not isinstance(delay, bool) else 0.0


class MockBackend(Backend):
    name = "mock"
    supports_async = True

    def validate(self, request: AdapterRequest) -> list[str]:
        flags = _flags(request)
        if request.descriptor_kind == DATAPRODUCT_DESCRIPTOR:
            return []
        if request.component is None:
            return [f"component {request.component_id!r} is not in the descriptor"]
        if _fails(flags, "validate"):
            return [str(flags.get("message") or "the mock adapter refuses this component (specific.mock.fail)")]
        return []

    def wants_async(self, request: AdapterRequest) -> bool:
        return bool(_flags(request).get("async"))

    def delay(self, request: AdapterRequest) -> float:
        return _delay(_flags(request))

    def _outcome(self, request: AdapterRequest, operation: str, *, attempt: int) -> Outcome:
        flags = _flags(request)
        fail_times = flags.get("failTimes")
        failing = _fails(flags, operation) or (
            operation == "provision" and isinstance(fail_times, int) and attempt <= fail_times
        )
        what = request.component_id or request.data_product.get("id", "the data product")
        if failing:
            message = str(flags.get("message") or f"the mock adapter was asked to fail {operation}")
            raise AdapterRefusal([message], user_message=message, input_error_field="specific.mock")
        logs = [
            {
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "level": "INFO",
                "message": f"{operation} of {what} done (attempt {attempt})",
                "phase": operation.upper(),
            }
        ]
        public = {}
        if operation == "provision":
            public = {"endpoint": {"type": "string_plain", "label": "Endpoint", "value": f"mock://{what}"}}
        return Outcome(status="COMPLETED", result=f"{operation} done", public_info=public, logs=logs)

    def provision(self, request: AdapterRequest, *, attempt: int = 1) -> Outcome:
        return self._outcome(request, "provision", attempt=attempt)

    def unprovision(self, request: AdapterRequest, *, attempt: int = 1) -> Outcome:
        return self._outcome(request, "unprovision", attempt=attempt)

    def update_acl(self, refs: list[str], request: AdapterRequest) -> Outcome:
        if _fails(_flags(request), "updateacl"):
            message = str(_flags(request).get("message") or "the mock adapter was asked to fail updateacl")
            raise AdapterRefusal([message], user_message=message)
        return Outcome(status="COMPLETED", result=f"access for {', '.join(refs) or 'nobody'}")

    def reverse_provision(self, use_case_template_id: str, environment: str, params: dict, catalog_info: dict) -> dict:
        return {"status": "COMPLETED", "updates": {}, "logs": []}
