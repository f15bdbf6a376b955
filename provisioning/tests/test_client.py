"""The Tech Adapter API client against a real adapter process (``provisioning.testing.external_adapter``) that
replays what real Witboost adapters answer, and against ``httpx.MockTransport`` for what no process sends cheaply."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from core import yaml
from provisioning.client import (
    MAX_ANSWER_BYTES,
    OPENAPI_PATH,
    AdapterEndpoint,
    ErrorKind,
    ProvisioningRequests,
    Reply,
    TechAdapterClient,
    provisioning_request,
)
from provisioning.testing import ExternalAdapter

FAST_POLL = 0.02


@pytest.fixture(scope="module")
def adapter():
    with ExternalAdapter() as running:
        yield running


@pytest.fixture(scope="module")
def client(adapter):
    with TechAdapterClient(AdapterEndpoint(adapter.url, connect_timeout=2, request_timeout=5)) as made:
        yield made


def data_product(component_id: str, flags: dict | None = None) -> dict:
    specific = {"adapter": flags} if flags is not None else {}
    return {
        "id": "urn:dmb:dp:finance:orders:0",
        "name": "Orders",
        "domain": "finance",
        "version": "0.1.0",
        "environment": "development",
        "components": [
            {"id": component_id, "name": "Storage", "kind": "storage", "specific": specific},
            {"id": f"{component_id}-other", "name": "Other", "kind": "outputport", "specific": {}},
        ],
    }


def component_request(name: str, flags: dict | None = None, *, remove_data: bool = False) -> dict:
    component_id = f"urn:dmb:cmp:finance:orders:0:{name}"
    return provisioning_request(
        descriptor=data_product(component_id, flags), component_id=component_id, remove_data=remove_data
    )


def component_id(name: str) -> str:
    return f"urn:dmb:cmp:finance:orders:0:{name}"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mock_client(handler, **endpoint) -> TechAdapterClient:
    return TechAdapterClient(
        AdapterEndpoint("http://adapter.test/ta", **endpoint), transport=httpx.MockTransport(handler)
    )


# --- requests --------------------------------------------------------------------------------------------------


def test_a_component_request_carries_the_data_product_and_the_component_id_as_yaml():
    descriptor = data_product(component_id("storage"), {"mode": "sync"})
    enriched = {**descriptor, "info": {"publicInfo": {"a": 1}}}
    request = provisioning_request(
        descriptor=descriptor, component_id=component_id("storage"), remove_data=True, latest_enriched=enriched
    )
    assert request["descriptorKind"] == "COMPONENT_DESCRIPTOR"
    assert request["removeData"] is True
    assert yaml.load(request["descriptor"]) == {
        "dataProduct": descriptor,
        "componentIdToProvision": component_id("storage"),
    }
    assert yaml.load(request["latestEnrichedDescriptor"]) == enriched


def test_a_data_product_request_carries_the_descriptor_itself():
    descriptor = data_product(component_id("storage"))
    request = provisioning_request(descriptor=descriptor, component_id=None)
    assert request == {
        "descriptorKind": "DATAPRODUCT_DESCRIPTOR",
        "descriptor": yaml.dump(descriptor),
        "removeData": False,
    }
    assert yaml.load(request["descriptor"]) == descriptor


def test_the_runtime_openapi_copy_is_the_published_spec():
    published = Path(__file__).resolve().parents[2] / "tests" / "data" / "witboost" / "tech-adapter-api-2.2.0.yml"
    assert OPENAPI_PATH.read_bytes() == published.read_bytes()


# --- provision, unprovision ------------------------------------------------------------------------------------


def test_a_sync_provision_completes_with_info_and_logs(adapter, client):
    reply = client.provision(component_request("sync"))
    assert reply.state == "completed"
    assert reply.error is None and reply.token is None
    assert reply.info["privateInfo"] == {"operation": "provision"}
    assert reply.info["publicInfo"]["endpoint"]["value"] == f"external://{component_id('sync')}"
    assert reply.result == f"provision of {component_id('sync')} done"
    # the adapter writes "phase": null, as pydantic does: an absent optional field, not a malformed log
    assert [(log["level"], "phase" in log) for log in reply.logs] == [("INFO", False)]
    assert adapter.calls()["provision"][component_id("sync")] == 1
    json.dumps(reply.as_dict())


def test_unprovision_is_counted_apart_from_provision(adapter, client):
    reply = client.unprovision(component_request("gone", remove_data=True))
    assert reply.state == "completed"
    assert reply.info["privateInfo"] == {"operation": "unprovision"}
    calls = adapter.calls()
    assert calls["unprovision"][component_id("gone")] == 1
    assert component_id("gone") not in calls["provision"]


@pytest.mark.parametrize("token_format", ["text", "json"])
def test_an_async_provision_is_polled_until_completed(client, token_format):
    started = client.provision(
        component_request(f"async-{token_format}", {"mode": "async", "polls": 2, "tokenFormat": token_format})
    )
    assert started.state == "running" and started.token
    polls: list[Reply] = []
    done = client.wait(started, poll_interval=FAST_POLL, deadline=time.monotonic() + 5, on_poll=polls.append)
    assert [poll.state for poll in polls] == ["running", "running", "completed"]
    assert done.state == "completed"
    assert done.token == started.token
    assert done.info["privateInfo"] == {"operation": "provision"}


def test_an_async_delay_holds_the_operation_running():
    with ExternalAdapter() as slow, TechAdapterClient(AdapterEndpoint(slow.url + "/")) as client:
        started_at = time.monotonic()
        started = client.provision(component_request("delayed", {"mode": "async", "polls": 0, "delay": 0.3}))
        done = client.wait(started, poll_interval=FAST_POLL, deadline=time.monotonic() + 5)
    assert done.state == "completed"
    assert time.monotonic() - started_at >= 0.3


def test_a_finished_reply_is_returned_by_wait_as_it_is(client):
    finished = Reply("completed", result="done")
    assert client.wait(finished, poll_interval=FAST_POLL, deadline=time.monotonic() + 1) is finished


def test_a_failed_status_is_a_failed_reply_with_the_adapters_result(client):
    reply = client.provision(component_request("fails", {"mode": "fail"}))
    assert reply.state == "failed"
    assert reply.error.kind == ErrorKind.FAILED
    assert reply.error.reason == f"provision of {component_id('fails')} failed on demand"
    assert [log["level"] for log in reply.logs] == ["ERROR"]


def test_an_async_failure_is_seen_on_the_poll(client):
    started = client.provision(component_request("fails-later", {"mode": "async", "fail": True}))
    done = client.wait(started, poll_interval=FAST_POLL, deadline=time.monotonic() + 5)
    assert done.state == "failed"
    assert done.error.kind == ErrorKind.FAILED
    assert done.token == started.token


def test_a_token_that_never_finishes_fails_at_the_deadline(client):
    started = client.provision(component_request("never", {"mode": "never"}))
    done = client.wait(started, poll_interval=FAST_POLL, deadline=time.monotonic() + 0.2)
    assert done.state == "failed"
    assert done.error.kind == ErrorKind.DEADLINE
    assert re.fullmatch(rf"not finished within 0\.[23] s of polling \(token {started.token}\)", done.error.reason)


def test_a_restarted_adapter_has_lost_the_token():
    with ExternalAdapter() as restarting, TechAdapterClient(AdapterEndpoint(restarting.url)) as client:
        started = client.provision(component_request("restart", {"mode": "never"}))
        restarting.restart()
        done = client.wait(started, poll_interval=FAST_POLL, deadline=time.monotonic() + 5)
    assert done.state == "failed"
    assert done.error.kind == ErrorKind.LOST_TOKEN
    assert done.error.reason == f"the adapter no longer knows token {started.token} (restarted?)"
    assert done.error.status_code == 500
    assert "Cannot find Provisioning Status" in done.error.errors[0]


def test_errors_alone_in_a_400_are_the_reason(client):
    reply = client.provision(component_request("errors400", {"mode": "errors400"}))
    assert reply.state == "failed"
    assert reply.error.kind == ErrorKind.HTTP
    assert reply.error.status_code == 400
    assert reply.error.reason == "HTTP 400 from POST /v1/provision: the component is refused on demand"
    assert reply.error.errors == ("the component is refused on demand",)
    assert reply.error.user_message == "" and reply.error.input is None


def test_a_whole_request_validation_error_with_nulls_is_kept_field_by_field(client):
    reply = client.unprovision(component_request("bad400", {"mode": "bad400"}))
    error = reply.error
    assert error.reason == "HTTP 400 from POST /v1/unprovision: The request is not valid for this adapter"
    assert error.user_message == "The request is not valid for this adapter"
    assert error.errors == ("specific.database is missing",)
    assert error.input is None
    assert error.input_error_field == "specific.database"
    assert error.problems == ("specific.database is missing",)
    assert error.solutions == ("Add a database",)
    assert json.loads(error.body)["input"] is None


def test_a_system_error_in_a_500_is_kept_field_by_field(client):
    error = client.provision(component_request("error500json", {"mode": "error500json"})).error
    assert error.kind == ErrorKind.HTTP and error.status_code == 500
    assert error.reason == "HTTP 500 from POST /v1/provision: The platform did not answer"
    assert error.errors == ("the target platform is unreachable",)
    assert (error.problems, error.solutions) == (("connection reset",), ("Retry later",))


def test_a_plain_text_500_is_the_reason(client):
    error = client.provision(component_request("error500text", {"mode": "error500text"})).error
    assert error.kind == ErrorKind.HTTP
    assert error.reason == "HTTP 500 from POST /v1/provision: Internal Server Error"
    assert error.body == "Internal Server Error"


def test_a_data_product_descriptor_refused_by_a_component_adapter_is_a_400(client):
    request = provisioning_request(descriptor=data_product(component_id("dp")), component_id=None)
    error = client.provision(request).error
    assert error.kind == ErrorKind.HTTP and error.status_code == 400
    assert "Expecting a COMPONENT_DESCRIPTOR but got a DATAPRODUCT_DESCRIPTOR" in error.reason


def test_an_answer_that_is_not_json_is_malformed(client):
    error = client.provision(component_request("garbage", {"mode": "garbage"})).error
    assert error.kind == ErrorKind.MALFORMED
    assert error.reason.startswith("malformed answer from POST /v1/provision: not JSON (")
    assert error.body == '{"status": "COMPLETED", "result": '


def test_an_answer_against_the_schema_is_malformed_naming_the_field(client):
    error = client.provision(component_request("badstatus", {"mode": "badstatus"})).error
    assert error.kind == ErrorKind.MALFORMED
    assert error.reason == (
        'malformed answer from POST /v1/provision: `status` is "DONE", expected one of RUNNING, COMPLETED, FAILED'
    )


def test_a_redirect_is_refused(adapter, client):
    error = client.provision(component_request("redirect", {"mode": "redirect"})).error
    assert error.kind == ErrorKind.REDIRECT
    assert error.status_code == 302
    assert error.reason == f"redirect to {adapter.url}/v1/provision refused"
    assert adapter.calls()["provision"][component_id("redirect")] == 1  # the redirect was not followed


def test_an_adapter_that_does_not_answer_in_time_is_a_timeout(adapter):
    endpoint = AdapterEndpoint(adapter.url, connect_timeout=1, request_timeout=0.3)
    with TechAdapterClient(endpoint) as impatient:
        error = impatient.provision(component_request("hang", {"mode": "hang", "delay": 3})).error
    assert error.kind == ErrorKind.TIMEOUT
    assert error.reason == "no answer to POST /v1/provision within 0.3 s"


def test_a_closed_port_is_a_connection_error():
    port = closed_port()
    with TechAdapterClient(AdapterEndpoint(f"http://127.0.0.1:{port}", connect_timeout=1)) as nowhere:
        reply = nowhere.provision(component_request("nowhere"))
    assert reply.state == "failed"
    assert reply.error.kind == ErrorKind.CONNECTION
    assert reply.error.reason == f"connection refused by 127.0.0.1:{port}"


# --- updateacl -------------------------------------------------------------------------------------------------


def test_update_acl_sends_the_refs_for_the_provisioned_component(adapter, client):
    request = component_request("acl")
    reply = client.update_acl(["user:alice", "group:finance"], {"request": request["descriptor"], "result": "done"})
    assert reply.state == "completed"
    calls = adapter.calls()
    assert calls["updateacl"][component_id("acl")] == 1
    assert calls["refs"][component_id("acl")] == ["user:alice", "group:finance"]


def test_an_async_update_acl_is_polled_like_a_provision(client):
    request = component_request("acl-async", {"mode": "async"})
    started = client.update_acl(["user:bob"], {"request": request["descriptor"], "result": ""})
    done = client.wait(started, poll_interval=FAST_POLL, deadline=time.monotonic() + 5)
    assert done.state == "completed"
    assert done.info["privateInfo"] == {"operation": "updateacl"}


# --- validate --------------------------------------------------------------------------------------------------


def test_sync_validation_gives_the_adapters_verdict(client):
    assert client.validate(component_request("valid"), use_async=False).valid is True
    refused = client.validate(component_request("refused", {"validateMode": "invalid"}), use_async=False)
    assert refused.valid is False and refused.error is None
    assert refused.errors == (f"component {component_id('refused')} is refused on demand",)


def test_async_validation_is_polled_to_its_result(client):
    reply = client.validate(
        component_request("refused-async", {"validateMode": "invalid", "polls": 2}),
        use_async=True,
        poll_interval=FAST_POLL,
    )
    assert reply.valid is False and reply.error is None and not reply.async_unsupported
    assert reply.errors == (f"component {component_id('refused-async')} is refused on demand",)


def test_async_validation_falls_back_to_sync_where_it_is_not_implemented():
    with ExternalAdapter(async_validate=False) as older, TechAdapterClient(AdapterEndpoint(older.url)) as client:
        reply = client.validate(component_request("fallback", {"validateMode": "invalid"}), use_async=True)
    assert reply.async_unsupported is True
    assert reply.valid is False and reply.error is None
    assert reply.errors == (f"component {component_id('fallback')} is refused on demand",)


def test_a_validation_call_that_fails_is_an_error_not_a_verdict(client):
    reply = client.validate(component_request("validate500", {"validateMode": "error500text"}), use_async=False)
    assert reply.valid is False and reply.errors == ()
    assert reply.error.reason == "HTTP 500 from POST /v1/validate: Internal Server Error"


# --- reverse provisioning --------------------------------------------------------------------------------------


def reverse_request(**extra) -> dict:
    return {"useCaseTemplateId": "urn:dmb:utm:postgres-outputport:0.0.0", "environment": "development", **extra}


def test_reverse_provisioning_without_catalog_info_is_refused_with_the_adapters_message(client):
    reply = client.reverse_provision(reverse_request(params={}))
    assert reply.state == "failed"
    assert reply.error.kind == ErrorKind.HTTP and reply.error.status_code == 422
    assert reply.error.reason == "HTTP 422 from POST /v1/reverse-provisioning: body.catalogInfo: Field required"


def test_reverse_provisioning_answers_its_updates_at_once(client):
    updates = {"spec.mesh.dataContract.schema": [{"name": "id", "dataType": "INTEGER"}]}
    reply = client.reverse_provision(reverse_request(params={"updates": updates}, catalogInfo={"spec": {}}))
    assert reply.state == "completed"
    assert reply.updates == updates
    assert [log["message"] for log in reply.logs] == ["reverse provisioning done"]


def test_reverse_provisioning_after_a_202_is_polled(client):
    reply = client.reverse_provision(
        reverse_request(params={"mode": "async", "polls": 2}, catalogInfo={}), poll_interval=FAST_POLL
    )
    assert reply.state == "completed" and reply.token
    assert reply.updates == {"spec.mesh.description": "Read back from development"}


def test_a_failed_reverse_provisioning_gives_its_error_logs_as_reason(client):
    reply = client.reverse_provision(reverse_request(params={"mode": "fail"}, catalogInfo={}))
    assert reply.state == "failed" and reply.error.kind == ErrorKind.FAILED
    assert reply.error.reason == "reverse provisioning failed on demand"


# --- what no process sends cheaply -----------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_an_answer_over_the_size_limit_is_malformed_and_not_read_whole(declared):
    sent = []

    def chunks():
        for _ in range(MAX_ANSWER_BYTES // 65536 + 10):
            sent.append(1)
            yield b" " * 65536

    def handler(request):
        if declared:
            return httpx.Response(200, headers={"Content-Length": str(MAX_ANSWER_BYTES + 1)}, content=chunks())
        return httpx.Response(200, content=chunks())

    with mock_client(handler) as client:
        error = client.provision(component_request("huge")).error
    assert error.kind == ErrorKind.MALFORMED
    assert error.reason == "malformed answer from POST /v1/provision: larger than 4 MiB"
    assert len(sent) <= (0 if declared else MAX_ANSWER_BYTES // 65536 + 1)


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b"", "text/plain", "the 202 answer holds no token"),
        (b'""', "application/json", "the 202 answer holds no token"),
        (b'{"token": "abc"}', "application/json", "the 202 answer is an object, expected the token as a string"),
        (b"12", "application/json", "the 202 answer is a number, expected the token as a string"),
    ],
)
def test_a_202_without_a_token_is_malformed(body, content_type, problem):
    with mock_client(
        lambda request: httpx.Response(202, content=body, headers={"Content-Type": content_type})
    ) as client:
        error = client.provision(component_request("no-token")).error
    assert error.reason == f"malformed answer from POST /v1/provision: {problem}"


def test_a_bare_numeric_token_in_plain_text_is_a_token():
    with mock_client(lambda request: httpx.Response(202, text="12345")) as client:
        assert client.provision(component_request("digits")).token == "12345"


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"status": "COMPLETED"}, "`result` is missing"),
        (
            {"status": "COMPLETED", "result": "", "logs": [{"timestamp": "t", "message": "m"}]},
            "`logs[0].level` is missing",
        ),
        ({"status": "COMPLETED", "result": "", "info": {"publicInfo": {}}}, "`info.privateInfo` is missing"),
        ({"status": "COMPLETED", "result": 3}, "`result` is a number, expected a string"),
        (["COMPLETED"], "the answer is a list, expected an object"),
        ({"status": "RUNNING", "result": ""}, "status RUNNING in a 200 answer, which gives no token to poll"),
    ],
)
def test_a_status_against_the_schema_names_what_is_wrong(answer, problem):
    with mock_client(lambda request: httpx.Response(200, json=answer)) as client:
        error = client.provision(component_request("schema")).error
    assert error.kind == ErrorKind.MALFORMED
    assert error.reason == f"malformed answer from POST /v1/provision: {problem}"


def test_wait_polls_through_a_passing_failure():
    answers = iter(
        [httpx.Response(503, text="busy"), httpx.Response(200, json={"status": "COMPLETED", "result": "ok"})]
    )
    with mock_client(lambda request: next(answers)) as client:
        polls: list[Reply] = []
        done = client.wait(
            Reply("running", token="t/1"), poll_interval=FAST_POLL, deadline=time.monotonic() + 5, on_poll=polls.append
        )
    assert [poll.state for poll in polls] == ["failed", "completed"]
    assert done.state == "completed" and done.token == "t/1"


def test_the_endpoint_headers_are_sent_and_the_token_is_quoted_in_the_path():
    seen = []

    def handler(request):
        seen.append((request.url.raw_path.decode(), request.headers.get("x-adapter-secret")))
        return httpx.Response(200, json={"status": "RUNNING", "result": "", "info": None, "logs": None})

    with mock_client(handler, headers={"X-Adapter-Secret": "s3cret"}) as client:
        reply = client.provision_status("a/b c")
    assert reply.state == "running" and reply.info is None and reply.logs == ()
    assert seen == [("/ta/v1/provision/a%2Fb%20c/status", "s3cret")]


def test_a_scaffold_validation_status_with_its_result_field_is_read():
    answers = iter(
        [
            httpx.Response(202, text="tok"),
            httpx.Response(200, json={"status": "COMPLETED", "result": {"valid": False, "error": {"errors": ["no"]}}}),
        ]
    )
    with mock_client(lambda request: next(answers)) as client:
        reply = client.validate(component_request("scaffold"), use_async=True, poll_interval=FAST_POLL)
    assert (reply.valid, reply.errors, reply.error) == (False, ("no",), None)


@pytest.mark.parametrize("status", [404, 405, 501])
def test_async_validation_falls_back_when_the_endpoint_is_missing(status):
    def handler(request):
        if request.url.path.endswith("/v2/validate"):
            return httpx.Response(status, json={"detail": "Not Found"})
        return httpx.Response(200, json={"valid": True, "error": None})

    with mock_client(handler) as client:
        reply = client.validate(component_request("missing-v2"), use_async=True)
    assert (reply.valid, reply.async_unsupported) == (True, True)


def test_a_status_the_api_does_not_use_is_malformed():
    with mock_client(lambda request: httpx.Response(204)) as client:
        error = client.unprovision(component_request("no-content")).error
    assert error.reason == "malformed answer from POST /v1/unprovision: HTTP 204, expected 200 or 202"


def test_a_long_error_body_is_kept_up_to_64_kib_and_the_reason_stays_one_short_line():
    text = "line one\nline two " + "x" * 200_000
    with mock_client(lambda request: httpx.Response(502, text=text)) as client:
        error = client.provision(component_request("long")).error
    assert error.kind == ErrorKind.HTTP and error.status_code == 502
    assert len(error.body) == 64 * 1024
    assert error.reason.startswith("HTTP 502 from POST /v1/provision: line one line two xxx")
    assert len(error.reason) <= 500 and "\n" not in error.reason


def test_requests_composed_from_one_dump_load_back_as_the_wrapper_of_each_component():
    descriptor = {
        "id": "urn:dmb:dp:finance:ledger:0",
        "description": "Two lines,\nthe second indented\n  like this",
        "specific": {"sql": "SELECT 1\n\nFROM t\n", "empty": "", "list": [{"a": 1}, "- not a list item"]},
        "components": [{"id": "urn:dmb:cmp:finance:ledger:0:a"}, {"id": "urn:dmb:cmp:finance:ledger:0:b: odd"}],
    }
    requests = ProvisioningRequests(descriptor=descriptor, latest_enriched={"info": {"x": "y"}}, remove_data=True)
    for component in descriptor["components"]:
        body = requests.request(component["id"])
        assert yaml.load(body["descriptor"]) == {"dataProduct": descriptor, "componentIdToProvision": component["id"]}
        assert yaml.load(body["latestEnrichedDescriptor"]) == {"info": {"x": "y"}}
        assert body["removeData"] is True
    assert yaml.load(requests.request(None)["descriptor"]) == descriptor
