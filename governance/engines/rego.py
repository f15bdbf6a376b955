"""The ``rego`` engine: a policy is an OPA Rego module (v1 syntax) run through regopy, with conftest's convention,
so that a conftest policy written against a descriptor works unchanged: the input is the resource, the sets
``deny`` and ``violation`` of the module's package (``main`` in conftest) hold its errors and ``warn`` its
warnings, each a message or an object ``{msg, path?}`` (a ``violation`` may carry ``details``).

regopy has no time limit and shows the process environment to any policy (``opa.runtime().env``), so modules run
in a child process (:mod:`governance.engines._rego_worker`) started with an empty environment, under a CPU limit
(``GOVERNANCE_REGO_TIMEOUT_SECONDS`` per input, set with ``setrlimit`` in the child), a wall-clock limit of the same
length per input and a memory limit (``GOVERNANCE_REGO_MEMORY_MB`` of resident memory), both watched from here:
the child is killed past either, and the resource it was on gets ``ERROR`` with the reason. ``RLIMIT_AS`` cannot
be the memory limit: the allocator of the Rego library reserves 256 GiB of address space when it starts, and
refuses to start under any address-space limit. One child evaluates every input of a call (the test bench sends
1,000 data products), compiling the module once."""

from __future__ import annotations

import contextlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from django.conf import settings

from core.problems import Problem, Severity
from governance.engines import BatchEngine, Item, Result

__all__ = ["RegoEngine"]

CODE = "rego"
WORKER = Path(__file__).with_name("_rego_worker.py")
# conftest's rule names and what they weigh
RULES = (("deny", Severity.ERROR), ("violation", Severity.ERROR), ("warn", Severity.WARNING))
RESULT_VARIABLE = "meshforge_result"
# Wall-clock allowance to start Python, import regopy and compile, beyond one input's time.
START_SECONDS = 10
POLL_SECONDS = 0.05
# After this many inputs that stopped the child (each restarted it for the inputs after), the rest are not run.
MAX_STOPS = 3
MAX_FINDINGS = 100
MAX_DETAILS_CHARS = 300

_PACKAGE_RE = re.compile(r"^[ \t]*package[ \t]+(\S+)", re.MULTILINE)
_PACKAGE_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
# The rule heads of Rego v0 that v1 refuses or reads otherwise: ``deny[msg] {`` (a partial set without
# ``contains``), ``allow {`` and ``p = x {`` (a body without ``if``). regopy reads the first as an object and some
# others without complaint, so they are found here, on the text, before anything is compiled.
_V0_HEAD_RES = (
    re.compile(r"^([A-Za-z_]\w*)\s*\[[^\]\n]*\]\s*\{"),
    re.compile(r"^([A-Za-z_]\w*)\s*\{\s*(?:#.*)?$"),
    re.compile(r"^([A-Za-z_]\w*)(?:\s*\[[^\]\n]*\])?\s*:?=\s*[^{\n]*[\w\"')\]]\s*\{\s*(?:#.*)?$"),
)
_KEYWORDS = frozenset({"default", "else", "every", "import", "not", "package", "some", "with"})


class RegoEngine(BatchEngine):
    name = "rego"
    label = "Rego (OPA)"

    def check(self, body: str) -> list[Problem]:
        try:
            problems, package = _static_check(body)
            if problems:
                return problems
            # Compiled and tried once on an empty input, in the child: a module that does not compile, calls an
            # unknown function, or loops is refused when it is saved.
            run = _run(body, _query(package), [{}])
            if run.compile_errors:
                return [Problem("body", message, code=CODE) for message in _compile_messages(body, run.compile_errors)]
            if run.failure is not None:
                return [Problem("body", f"on an empty input, the module {run.failure}", code=CODE)]
            if "error" in run.answers[0]:
                return [Problem("body", f"the module fails: {run.answers[0]['error']}", code=CODE)]
        except Exception as exc:  # a body must never break the form that saves it
            return [Problem("body", f"the module could not be checked: {exc}", code=CODE)]
        return []

    def evaluate_many(self, body: str, items: list[Item]) -> list[Result]:
        if not items:
            return []
        try:
            return _evaluate_many(body, [resource for resource, _previous, _context in items])
        except Exception as exc:  # never a pass, never an exception
            return [Result.failed(f"the Rego engine failed: {type(exc).__name__}: {exc}")] * len(items)


def _evaluate_many(body: str, inputs: list) -> list[Result]:
    problems, package = _static_check(body)
    if problems:
        return [Result.failed(f"the module does not compile: {problems[0].message}")] * len(inputs)
    query = _query(package)
    results: list[Result] = []
    pending = inputs
    stops = 0
    while pending:
        run = _run(body, query, pending)
        if run.compile_errors:
            reason = "; ".join(_compile_messages(body, run.compile_errors))
            return [Result.failed(f"the module does not compile: {reason}")] * len(inputs)
        if not run.compiled:
            return results + [Result.failed(f"the Rego process {run.failure}")] * len(pending)
        results += [_result(answer) for answer in run.answers]
        if run.failure is None:
            break
        # The input in flight stopped the child; the ones after it get a new one.
        results.append(Result.failed(f"the policy {run.failure}"))
        pending = pending[len(run.answers) + 1 :]
        stops += 1
        if stops >= MAX_STOPS and pending:
            reason = f"not evaluated: the policy stopped on {stops} resources before this one (last: {run.failure})"
            results += [Result.failed(reason)] * len(pending)
            break
    return results


# --- the module's text ----------------------------------------------------------------------------------------


def _static_check(body: object) -> tuple[list[Problem], str]:
    """What is wrong with the text itself (no module, Rego v0, no package), and the module's package."""
    if not isinstance(body, str):
        return [Problem("body", f"the body must be text, not {type(body).__name__}", code=CODE)], ""
    if not body.strip():
        return [
            Problem("body", "the body is empty: write a Rego module (package main, deny contains msg if …)", code=CODE)
        ], ""
    problems = [Problem("body", message, code=CODE) for message in _v0_problems(body)]
    match = _PACKAGE_RE.search(body)
    if match is None:
        problems.append(
            Problem("body", "the module has no package line (conftest's policies are in package main)", code=CODE)
        )
        return problems, ""
    package = match.group(1)
    if not _PACKAGE_PATH_RE.fullmatch(package):
        line = body.count("\n", 0, match.start(1)) + 1
        problems.append(
            Problem(
                "body",
                f"line {line}: write the package as dotted names (package main.checks), not {package}",
                code=CODE,
            )
        )
    return problems, package


def _v0_problems(body: str) -> list[str]:
    problems = []
    in_raw_string = False
    for number, text in enumerate(body.splitlines(), start=1):
        if text.count("`") % 2:
            in_raw_string = not in_raw_string
            continue
        if in_raw_string:
            continue
        line = text.strip()
        if re.search(r"\b(?:if|contains)\b", line):
            continue
        for pattern in _V0_HEAD_RES:
            match = pattern.match(line)
            if match is not None and match.group(1) not in _KEYWORDS:
                problems.append(
                    f"line {number}: {line!r} is Rego v0, which this engine does not run; write Rego v1:"
                    " 'deny contains msg if { … }' for a set of messages, 'allow if { … }' for a rule with a body"
                )
                break
    return problems


def _query(package: str) -> str:
    """One query for the three rules: each gives a list of its value (empty when the module does not define it)."""
    rules = ", ".join(f'"{rule}": [value | value := data.{package}.{rule}]' for rule, _severity in RULES)
    return f"{RESULT_VARIABLE} := {{{rules}}}"


def _compile_messages(body: str, errors: list[dict]) -> list[str]:
    messages = []
    data = body.encode()
    for error in errors:
        offset = error.get("offset")
        if isinstance(offset, int) and 0 <= offset <= len(data):
            before = data[:offset]
            line = before.count(b"\n") + 1
            column = len(before[before.rfind(b"\n") + 1 :].decode(errors="replace")) + 1
            messages.append(f"line {line}, column {column}: {error.get('message')}")
        else:
            messages.append(str(error.get("message")))
    return messages


# --- findings -------------------------------------------------------------------------------------------------


def _result(answer: dict) -> Result:
    if "error" in answer:
        return Result.failed(f"the policy failed: {answer['error']}")
    try:
        values = answer["value"]["bindings"][RESULT_VARIABLE]
        findings = [
            _finding(item, severity) for rule, severity in RULES for value in values[rule] for item in _items(value)
        ]
    except (KeyError, TypeError) as exc:
        return Result.failed(f"the Rego process gave an answer of an unknown shape ({exc!r})")
    if len(findings) > MAX_FINDINGS:
        findings = [*findings[:MAX_FINDINGS], Problem("", f"and {len(findings) - MAX_FINDINGS} more", code=CODE)]
    return Result.of(findings)


def _items(value: object) -> list:
    """The messages of a rule's value: a set (most rules), a boolean (``deny if …``) or an object."""
    if isinstance(value, list):
        return value
    if value is True:
        return ["the rule is true"]
    if value is False or value is None:
        return []
    if isinstance(value, dict) and "msg" not in value:
        return list(value)  # a partial object, ``deny[msg] if …``: its keys are the messages
    return [value]


def _finding(item: object, severity: Severity) -> Problem:
    if isinstance(item, str):
        return Problem("", item, severity=severity, code=CODE)
    if isinstance(item, dict) and "msg" in item:
        message = item["msg"] if isinstance(item["msg"], str) else json.dumps(item["msg"])
        if item.get("details") is not None:
            details = json.dumps(item["details"], sort_keys=True)
            message += f" ({details if len(details) <= MAX_DETAILS_CHARS else details[:MAX_DETAILS_CHARS] + '…'})"
        path = item.get("path")
        return Problem(path if isinstance(path, str) else "", message, severity=severity, code=CODE)
    return Problem("", json.dumps(item), severity=severity, code=CODE)


# --- the child process ----------------------------------------------------------------------------------------


@dataclass
class _Run:
    compiled: bool = False
    compile_errors: list[dict] = field(default_factory=list)
    answers: list[dict] = field(default_factory=list)
    failure: str | None = None  # why the child stopped before answering for every input


def _run(module: str, query: str, inputs: list) -> _Run:
    """Run the worker on ``inputs``: what it answered, and why it stopped early if it did."""
    timeout = settings.GOVERNANCE_REGO_TIMEOUT_SECONDS
    memory_mb = settings.GOVERNANCE_REGO_MEMORY_MB
    payload = json.dumps({"module": module, "query": query, "inputs": inputs}, default=str).encode()
    run = _Run()
    child = _child(timeout)
    process, stderr = child.process, child.stderr
    writer = threading.Thread(target=_write, args=(process.stdin, payload), daemon=True)
    writer.start()
    try:
        _read(process, run, timeout, memory_mb, expected=len(inputs))
        if run.failure is None:
            try:
                process.wait(timeout=START_SECONDS)
            except subprocess.TimeoutExpired:
                run.failure = "did not stop after answering"
        if run.failure is None and process.returncode != 0:
            run.failure = _exit_reason(process.returncode, timeout, stderr)
        if run.failure is None and not run.compile_errors and len(run.answers) < len(inputs):
            run.failure = f"stopped before answering ({_stderr_tail(stderr) or 'no message'})"
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        writer.join(timeout=START_SECONDS)  # a write to a dead child fails at once
        process.stdout.close()
        stderr.close()
    return run


@dataclass
class _Child:
    """A worker process: started with no environment, its own stderr file, the time limit it was given, and the
    process that started it (a forked process must not take its parent's)."""

    process: subprocess.Popen
    stderr: IO[bytes]
    timeout: int
    owner: int
    worker: Path


_spare: _Child | None = None
_spare_lock = threading.Lock()


def _child(timeout: int) -> _Child:
    """A worker for one run: the spare started after the previous run, which has imported regopy while nothing
    waited for it (starting Python and loading the Rego library is most of a small run's time, about 30 ms), or a
    new one; then a new spare for the next run. A spare holds nothing of a run: each run has a process of its
    own, as before, so nothing one policy does reaches another."""
    global _spare
    with _spare_lock:
        child, _spare = _spare, None
        usable = child is not None and (child.owner, child.timeout, child.worker) == (os.getpid(), timeout, WORKER)
        if child is not None and (not usable or child.process.poll() is not None):
            _discard(child)
            child = None
        child = child or _spawn(timeout)
        _spare = _spawn(timeout)
    return child


def _spawn(timeout: int) -> _Child:
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the run that takes the child, or by _discard
    process = subprocess.Popen(  # noqa: S603 - our own worker, with this interpreter
        [sys.executable, "-I", str(WORKER), str(timeout)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env={},  # nothing of this process's environment (secrets) reaches opa.runtime()
        cwd=tempfile.gettempdir(),
        close_fds=True,
    )
    return _Child(process=process, stderr=stderr, timeout=timeout, owner=os.getpid(), worker=WORKER)


def _discard(child: _Child) -> None:
    if child.owner == os.getpid():
        with contextlib.suppress(OSError):
            child.process.kill()
        child.process.wait()
    with contextlib.suppress(OSError):
        child.process.stdin.close()
        child.process.stdout.close()
    child.stderr.close()


def _write(stream, payload: bytes) -> None:
    try:
        stream.write(payload)
    except OSError:
        pass  # the child stopped: how it stopped says why
    finally:
        with contextlib.suppress(OSError):
            stream.close()


def _read(process: subprocess.Popen, run: _Run, timeout: int, memory_mb: int, *, expected: int) -> None:
    """Read the worker's answers, each within ``timeout`` seconds of the one before, its memory watched; on a
    time, memory or protocol failure ``run.failure`` says why (the caller kills the process)."""
    fd = process.stdout.fileno()
    buffer = b""
    deadline = time.monotonic() + START_SECONDS + timeout
    while True:
        now = time.monotonic()
        if now >= deadline:
            run.failure = f"did not finish within {timeout} s"
            return
        if _resident_bytes(process.pid) > memory_mb * 1024 * 1024:
            run.failure = f"used more than {memory_mb} MB of memory"
            return
        ready, _, _ = select.select([fd], [], [], min(POLL_SECONDS, deadline - now))
        if not ready:
            continue
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return
        *lines, buffer = (buffer + chunk).split(b"\n")
        for line in lines:
            try:
                answer = json.loads(line)
            except ValueError:
                run.failure = "gave an answer that is not JSON"
                return
            if not isinstance(answer, dict):
                run.failure = "gave an answer that is not a JSON object"
                return
            if not run.compiled and not run.compile_errors:
                if isinstance(answer.get("compile_errors"), list):
                    run.compile_errors = answer["compile_errors"] or [{"message": "the module does not compile"}]
                elif answer.get("compiled") is True:
                    run.compiled = True
                else:
                    run.failure = "gave an answer of an unknown shape"
                    return
            elif run.compiled and len(run.answers) < expected:
                run.answers.append(answer)
            else:
                run.failure = "gave more answers than it was asked for"
                return
            deadline = time.monotonic() + timeout


def _resident_bytes(pid: int) -> int:
    """The resident memory of a process (Linux), or 0 where it cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _exit_reason(returncode: int, timeout: int, stderr) -> str:
    if returncode == -signal.SIGXCPU:
        return f"did not finish within {timeout} s of CPU time"
    if returncode < 0:
        try:
            return f"was stopped by signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was stopped by signal {-returncode}"
    tail = _stderr_tail(stderr)
    return f"stopped with exit status {returncode}" + (f": {tail}" if tail else "")


def _stderr_tail(stderr) -> str:
    stderr.seek(0, os.SEEK_END)
    size = stderr.tell()
    stderr.seek(max(0, size - 2000))
    lines = [line.strip() for line in stderr.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""
