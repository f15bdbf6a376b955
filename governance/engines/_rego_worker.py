"""The child process of the ``rego`` engine: compiles one Rego module and queries it for each input it is given,
under a CPU limit, with no environment (regopy has no time limit of its own, and ``opa.runtime()`` shows the
process environment to any policy).

It is run as ``python -I _rego_worker.py TIMEOUT`` by :mod:`governance.engines.rego` and imports nothing of the
project: only the standard library and regopy. The request comes on stdin as one JSON object ``{"module", "query",
"inputs"}``; the answers go to stdout as JSON lines: first ``{"compiled": true}`` or ``{"compile_errors": [{"message",
"offset"}]}`` (``offset`` in bytes of the module, or null), then one line per input: ``{"value": <the query's
bindings>}`` or ``{"error": "..."}``. What the Rego library prints of its own goes to stderr."""

from __future__ import annotations

import json
import os
import re
import resource
import sys

# Starting Python, importing regopy, reading the request and compiling, beyond one query's time.
STARTUP_CPU_SECONDS = 5
MODULE_NAME = "policy.rego"


def main() -> int:
    timeout = float(sys.argv[1])
    # Started with no environment, but Python sets LC_CTYPE itself when the locale is C (PEP 538): clearing
    # os.environ unsets it in the C environment too, which is what opa.runtime() reads.
    os.environ.clear()
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # the Rego library prints its errors on stdout: they must not mix with the answers
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # stopped at its CPU limit, it leaves no core file behind
    _arm_cpu(STARTUP_CPU_SECONDS + timeout)
    # loaded before the request comes: a spare worker is started ahead of its run, and this is most of its start
    from regopy import Interpreter, RegoError
    from regopy import rego_shared as capi

    request = json.loads(sys.stdin.buffer.read())
    inputs = request["inputs"]
    _limit_total_cpu(STARTUP_CPU_SECONDS + timeout * (len(inputs) + 1))

    def answer(line: dict) -> None:
        answers.write(json.dumps(line).encode() + b"\n")
        answers.flush()

    interpreter = Interpreter()
    try:
        interpreter.add_module(MODULE_NAME, request["module"])
        bundle = interpreter.build(request["query"])
    except RegoError as exc:
        answer({"compile_errors": compile_errors(str(exc))})
        return 0
    if not bundle.ok():
        answer({"compile_errors": [{"message": "the module could not be compiled", "offset": None}]})
        return 0
    answer({"compiled": True})
    for item in inputs:
        _arm_cpu(timeout)
        try:
            interpreter.set_input(item)
            # The low-level call: Interpreter.query_bundle fails on an error output without giving its text.
            output = capi.rego_bundle_query(interpreter._impl, bundle._impl)
        except RegoError as exc:
            answer({"error": query_error(str(exc))})
            continue
        try:
            ok, text = capi.rego_output_ok(output), capi.rego_output_string(output)
        finally:
            capi.rego_free_output(output)
        answer(query_answer(ok, text))
    return 0


def query_answer(ok: bool, text: str) -> dict:
    if ok and text.startswith("{"):
        return {"value": json.loads(text)}
    if ok and text.startswith("(error"):
        return {"error": query_error(text)}
    return {
        "error": "the query failed and the Rego library gave no reason (for example, a rule with one value"
        " produced two)"
    }


_ERROR_RE = re.compile(rb"\(error(?=[\s)])(?: (\d+):)?")
_ERRORMSG_RE = re.compile(rb"\(errormsg (\d+):")
_LOCATION_RE = re.compile(rb"\|(\d+)\|(\d+)")


def compile_errors(text: str) -> list[dict]:
    """The errors of regopy's error sequence, ``(error 11:policy.rego|50|2 (errormsg 24:Invalid ...) ...)``:
    each message with the byte offset in the module where it is (lengths prefix the strings)."""
    data = text.encode()
    errors = []
    for match in _ERROR_RE.finditer(data):
        offset = None
        position = match.end()
        if match.group(1) is not None:
            file_name = data[position : position + int(match.group(1))]
            position += int(match.group(1))
            location = _LOCATION_RE.match(data, position)
            if file_name == MODULE_NAME.encode() and location is not None:
                offset = int(location.group(1))
        message = _ERRORMSG_RE.search(data, position)
        if message is None:
            continue
        start = message.end()
        errors.append(
            {"message": data[start : start + int(message.group(1))].decode(errors="replace"), "offset": offset}
        )
    return errors or [{"message": text.strip()[:500] or "the module could not be compiled", "offset": None}]


def query_error(text: str) -> str:
    return "; ".join(error["message"] for error in compile_errors(text))


def _arm_cpu(seconds: float) -> None:
    """Let the process use ``seconds`` more of CPU time (the kernel stops it with SIGXCPU beyond)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _limit_total_cpu(seconds: float) -> None:
    """A hard limit for the whole request, which re-arming the soft limit per input can never pass."""
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    total = int(seconds) + 1
    if hard == resource.RLIM_INFINITY or total < hard:
        resource.setrlimit(resource.RLIMIT_CPU, (min(soft, total), total))


if __name__ == "__main__":
    sys.exit(main())
