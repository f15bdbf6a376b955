"""The coordinator: runs a confirmed deployment's tasks through their adapters (PRODUCT §6).

Independent steps go at once: HTTP calls and polling run on a pool of threads inside the task (not limited by the
worker's concurrency) while this thread alone writes the database — it starts steps by compare-and-set, saves each
token the moment an adapter gives one, beats the heartbeat, and records every answer. A worker that dies leaves the
rows as they were: the sweeper sends the deployment again and the next coordinator resumes each running step from its
saved token, or sends its call again (adapters' operations are idempotent), so nothing is provisioned twice beyond
the one call in flight."""

from __future__ import annotations

import contextlib
import logging
import queue
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.services import OPERATOR, audit_record
from provisioning.choices import DeploymentOperation, DeploymentStatus, TaskOperation, TaskStatus, UnitStatus
from provisioning.client import AdapterError, ErrorKind, ProvisioningRequests, Reply
from provisioning.models import Deployment, DeploymentTask
from provisioning.planning import DATA_PRODUCT_STEP

logger = logging.getLogger(__name__)

OPERATION_WORDS = {TaskOperation.PROVISION: "Deploy", TaskOperation.UNPROVISION: "Undeploy"}


@dataclass(frozen=True)
class _Job:
    """What a thread needs to carry out one step: nothing of the database."""

    task_id: int
    adapter: object
    request: dict
    operation: str
    token: str
    deadline: float  # time.monotonic()


def _deadline(task: DeploymentTask) -> float:
    """The operation's deadline as a monotonic time, counted from when the step first started (a resumed step
    keeps the time it had)."""
    limit = task.adapter.operation_timeout if task.adapter is not None else 600.0
    started = task.started_at or timezone.now()
    remaining = (started + timedelta(seconds=limit) - timezone.now()).total_seconds()
    return time.monotonic() + remaining


def _carry_out(job: _Job, client, tokens: queue.Queue) -> Reply:
    """Run in a pool thread: resume a saved token or send the call, then poll to the end or the deadline."""
    adapter = job.adapter
    if time.monotonic() >= job.deadline:
        return Reply(
            state="failed",
            token=job.token or None,
            error=AdapterError(kind=ErrorKind.DEADLINE, reason=f"not finished within {adapter.operation_timeout:g} s"),
        )
    reply = None
    if job.token:  # a coordinator before us got this far: ask how it went
        reply = client.wait(
            Reply(state="running", token=job.token), poll_interval=adapter.poll_interval, deadline=job.deadline
        )
        if reply.state == "failed" and reply.error is not None and reply.error.kind == ErrorKind.LOST_TOKEN:
            reply = None  # the adapter restarted and forgot it: the operation is idempotent, send it again
    if reply is None:
        send = client.provision if job.operation == TaskOperation.PROVISION else client.unprovision
        reply = send(job.request)
        if reply.state == "running" and reply.token:
            tokens.put((job.task_id, reply.token))
            reply = client.wait(reply, poll_interval=adapter.poll_interval, deadline=job.deadline)
    return reply


class Coordinator:
    """One run of one deployment by this worker."""

    def __init__(self, deployment_id: int) -> None:
        self.deployment_id = deployment_id
        self.runner = uuid.uuid4().hex
        self.tokens: queue.Queue = queue.Queue()
        self.in_flight: dict[Future, int] = {}
        self.requests: ProvisioningRequests | None = None
        self.clients: dict[int, object] = {}
        self.beaten = time.monotonic()

    # -- claiming and beating ---------------------------------------------------------------------------------------

    def claim(self) -> bool:
        from provisioning.services import _claim

        return _claim(self.deployment_id, DeploymentStatus.RUNNING, self.runner)

    def beat(self) -> bool:
        """Renew the heartbeat of the deployment and of its running steps; False when another coordinator took
        the deployment over (this one then stops)."""
        self.beaten = time.monotonic()
        now = timezone.now()
        held = Deployment.objects.filter(
            pk=self.deployment_id, status=DeploymentStatus.RUNNING, runner=self.runner
        ).update(heartbeat_at=now)
        if held:
            DeploymentTask.objects.filter(deployment_id=self.deployment_id, status=TaskStatus.RUNNING).update(
                heartbeat_at=now
            )
        return bool(held)

    # -- the loop ---------------------------------------------------------------------------------------------------

    def run(self) -> Deployment | None:
        if not self.claim():
            return None
        deployment = Deployment.objects.select_related("product", "release").get(pk=self.deployment_id)
        self.deployment = deployment
        self.enriched = self._latest_enriched()
        workers = settings.PROVISIONING_MAX_PARALLEL
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"deploy-{deployment.pk}") as pool,
            contextlib.ExitStack() as self.open_clients,
        ):
            resumed = False
            while True:
                # the requests and answers (a descriptor each) are not needed to decide what runs next
                tasks = list(
                    DeploymentTask.objects.filter(deployment=deployment)
                    .select_related("adapter")
                    .defer("request", "response", "logs")
                )
                self._skip_dependants(tasks)
                by_id = {task.component_id: task for task in tasks}
                flying = set(self.in_flight.values())
                for task in tasks:
                    if task.pk in flying:
                        continue
                    if task.status == TaskStatus.RUNNING and not resumed:
                        self._submit(pool, task, resume=True)  # left running by a coordinator that died
                    elif task.status == TaskStatus.PENDING and self._ready(task, by_id) and self._start(task):
                        self._submit(pool, task, resume=False)
                resumed = True
                if not self.in_flight:
                    break
                done, _ = wait(
                    list(self.in_flight), timeout=settings.PROVISIONING_HEARTBEAT_SECONDS, return_when=FIRST_COMPLETED
                )
                self._save_tokens()
                if time.monotonic() - self.beaten >= settings.PROVISIONING_HEARTBEAT_SECONDS / 2 and not self.beat():
                    logger.warning("deployment %s: taken over by another coordinator; stopping", deployment.pk)
                    return None
                for future in done:
                    task_id = self.in_flight.pop(future)
                    self._record(task_id, future)
        return self._finish()

    def _ready(self, task: DeploymentTask, by_id: dict[str, DeploymentTask]) -> bool:
        for dependency in task.depends_on:
            other = by_id.get(dependency)
            if other is not None and other.status != TaskStatus.SUCCEEDED:
                return False
        return True

    def _skip_dependants(self, tasks: list[DeploymentTask]) -> None:
        """A step whose dependency failed or was skipped is skipped (and, in turn, its own dependants)."""
        by_id = {task.component_id: task for task in tasks}
        changed = True
        while changed:
            changed = False
            for task in tasks:
                if task.status != TaskStatus.PENDING:
                    continue
                blocked = [
                    by_id[d]
                    for d in task.depends_on
                    if d in by_id and by_id[d].status in (TaskStatus.FAILED, TaskStatus.SKIPPED)
                ]
                if blocked:
                    reason = f"skipped: {blocked[0].name} did not succeed"
                    DeploymentTask.objects.filter(pk=task.pk, status=TaskStatus.PENDING).update(
                        status=TaskStatus.SKIPPED, error=reason, finished_at=timezone.now()
                    )
                    task.status = TaskStatus.SKIPPED
                    changed = True

    def _start(self, task: DeploymentTask) -> bool:
        """Move a pending step to running (compare-and-set), recording the request it is about to send."""
        now = timezone.now()
        request = self._request(task)
        started = DeploymentTask.objects.filter(pk=task.pk, status=TaskStatus.PENDING).update(
            status=TaskStatus.RUNNING, attempts=F("attempts") + 1, started_at=now, heartbeat_at=now, request=request
        )
        if started:
            task.status, task.started_at, task.attempts = TaskStatus.RUNNING, now, task.attempts + 1
        return bool(started)

    def _request(self, task: DeploymentTask) -> dict:
        if self.requests is None:
            self.requests = ProvisioningRequests(
                descriptor=self.deployment.descriptor,
                remove_data=self.deployment.remove_data,
                latest_enriched=self.enriched,
            )
        return self.requests.request(task.component_id or None)

    def _submit(self, pool: ThreadPoolExecutor, task: DeploymentTask, *, resume: bool) -> None:
        request = self._request(task)
        if resume:
            # this coordinator sends it again (or polls its token): one more attempt, recorded
            DeploymentTask.objects.filter(pk=task.pk).update(
                attempts=F("attempts") + 1, heartbeat_at=timezone.now(), request=request
            )
        job = _Job(
            task_id=task.pk,
            adapter=task.adapter,
            request=request,
            operation=task.operation,
            token=task.token if resume else "",
            deadline=_deadline(task),
        )
        if task.adapter is None:  # the registry row was deleted after planning
            future: Future = Future()
            future.set_result(
                Reply(state="failed", error=AdapterError(kind=ErrorKind.CONNECTION, reason="the adapter was removed"))
            )
        else:
            future = pool.submit(_carry_out, job, self._client(task.adapter), self.tokens)
        self.in_flight[future] = task.pk

    def _client(self, adapter):
        """One client per adapter for the run, shared by the threads (its connections are reused)."""
        from provisioning.services import adapter_client

        if adapter.pk not in self.clients:
            self.clients[adapter.pk] = self.open_clients.enter_context(adapter_client(adapter))
        return self.clients[adapter.pk]

    def _save_tokens(self) -> None:
        while True:
            try:
                task_id, token = self.tokens.get_nowait()
            except queue.Empty:
                return
            DeploymentTask.objects.filter(pk=task_id, status=TaskStatus.RUNNING).update(token=token[:500])

    def _record(self, task_id: int, future: Future) -> None:
        try:
            reply: Reply = future.result()
        except Exception as exc:  # a bug in the client must not leave the step running for ever
            logger.exception("deployment %s: step %s crashed", self.deployment_id, task_id)
            reply = Reply(
                state="failed", error=AdapterError(kind=ErrorKind.CONNECTION, reason=f"internal error: {exc}")
            )
        status = TaskStatus.SUCCEEDED if reply.state == "completed" else TaskStatus.FAILED
        DeploymentTask.objects.filter(pk=task_id, status=TaskStatus.RUNNING).update(
            status=status,
            response=reply.as_dict(),
            logs=list(reply.logs),
            error="" if status == TaskStatus.SUCCEEDED else (reply.error.reason if reply.error else "failed"),
            token=(reply.token or "")[:500],
            finished_at=timezone.now(),
        )

    # -- the end ----------------------------------------------------------------------------------------------------

    def _latest_enriched(self) -> dict | None:
        from provisioning.selectors import unit_get

        unit = unit_get(product=self.deployment.product, environment=self.deployment.environment)
        return unit.enriched_descriptor if unit is not None and unit.enriched_descriptor else None

    def _enriched(self, tasks: list[DeploymentTask]) -> dict:
        """The descriptor with each component's adapter ``info`` and ``latestProvisioningOperation``; what an
        adapter did not answer this time keeps what it answered before."""
        previous = {
            component.get("id"): component.get("info")
            for component in (self.enriched or {}).get("components") or []
            if isinstance(component, dict)
        }
        by_id = {task.component_id: task for task in tasks}
        enriched = dict(self.deployment.descriptor)
        components = []
        for component in self.deployment.descriptor.get("components") or []:
            if not isinstance(component, dict):
                continue
            info = dict(previous.get(component.get("id")) or {})
            task = by_id.get(component.get("id"))
            if task is not None:
                answered = (task.response or {}).get("info") or {}
                if task.status == TaskStatus.SUCCEEDED and isinstance(answered, dict):
                    info.update({key: answered[key] for key in ("publicInfo", "privateInfo") if key in answered})
                info["latestProvisioningOperation"] = {
                    "operation": OPERATION_WORDS.get(task.operation, task.operation),
                    "status": {
                        TaskStatus.SUCCEEDED: "Successful",
                        TaskStatus.FAILED: "Failed",
                        TaskStatus.SKIPPED: "NotStarted",
                    }.get(task.status, "NotStarted"),
                }
            components.append({**component, "info": info} if info else component)
        enriched["components"] = components
        dp_task = by_id.get(DATA_PRODUCT_STEP)
        if dp_task is not None and dp_task.status == TaskStatus.SUCCEEDED:
            answered = (dp_task.response or {}).get("info")
            if isinstance(answered, dict):
                enriched["info"] = answered
        return enriched

    def _finish(self) -> Deployment | None:
        from provisioning.services import _unit

        with transaction.atomic():
            deployment = Deployment.objects.select_for_update().get(pk=self.deployment_id)
            if deployment.status != DeploymentStatus.RUNNING or deployment.runner != self.runner:
                return None
            tasks = list(deployment.tasks.all())
            failed = [task for task in tasks if task.status != TaskStatus.SUCCEEDED]
            now = timezone.now()
            deployment.status = DeploymentStatus.FAILED if failed else DeploymentStatus.SUCCEEDED
            deployment.finished_at = now
            deployment.runner = ""
            if failed:
                first = next((task for task in failed if task.status == TaskStatus.FAILED), failed[0])
                deployment.error = f"{first.name}: {first.error}"
            deployment.save(update_fields=["status", "finished_at", "runner", "error"])
            unit = _unit(deployment)
            undeploy = deployment.operation == DeploymentOperation.UNDEPLOY
            unit.last_deployment = deployment
            if failed:
                unit.status = UnitStatus.CORRUPT
                unit.enriched_descriptor = self._enriched(tasks)
            elif undeploy:
                unit.status = UnitStatus.NOT_DEPLOYED
                unit.release = None
                unit.enriched_descriptor = {}
                unit.deployed_at = None
            else:
                unit.status = UnitStatus.DEPLOYED
                unit.release = deployment.release
                unit.enriched_descriptor = self._enriched(tasks)
                unit.deployed_at = now
            unit.save()
            audit_record(
                actor=deployment.created_by or OPERATOR,
                action=f"provisioning.deployment_{deployment.status}",
                obj=deployment,
                after={"unit": unit.status, "error": deployment.error},
            )
            transaction.on_commit(lambda: _finished_hooks(deployment.pk))
        return deployment


def _finished_hooks(deployment_id: int) -> None:
    """Tell the apps that follow a unit's state (the marketplace, next) that a run ended."""
    from provisioning.signals import deployment_finished

    deployment = Deployment.objects.select_related("product", "release").filter(pk=deployment_id).first()
    if deployment is not None:
        deployment_finished.send(sender=Deployment, deployment=deployment)


def deployment_run(*, deployment_id: int) -> Deployment | None:
    """Run (or resume) a confirmed deployment to its end; None when another coordinator holds it."""
    return Coordinator(deployment_id).run()
