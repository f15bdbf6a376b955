"""The Celery application: queues, routes, beat's schedule, and the liveness of worker and beat."""

from types import SimpleNamespace

from django.conf import settings

from config.celery import app
from core.choices import ProcessRole
from core.heartbeat import HeartbeatStep
from core.models import ProcessHeartbeat
from core.tasks import purge_stale_heartbeats
from core.testing.factories import ProcessHeartbeatFactory


def test_the_three_queues_are_declared_and_routed():
    assert {queue.name for queue in app.conf.task_queues} == {"default", "catalog", "provisioning"}
    assert app.conf.task_default_queue == "default"
    router = app.amqp.router
    assert router.route({}, "catalog.tasks.refresh_locations")["queue"].name == "catalog"
    assert router.route({}, "provisioning.tasks.run_deployment")["queue"].name == "provisioning"
    assert router.route({}, "core.tasks.purge_stale_heartbeats")["queue"].name == "default"


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, f"beat entry {name!r} names an unknown task {entry['task']!r}"


def test_the_embedded_broker_is_the_filesystem_transport_under_the_data_dir():
    if settings.CELERY_EMBEDDED_BROKER:
        assert app.conf.broker_url.startswith("filesystem://")
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"].startswith(str(settings.MESHFORGE_DATA_DIR))
    else:
        assert not app.conf.broker_url.startswith("filesystem://")


def test_purging_forgets_only_processes_not_heard_of_for_a_day(db):
    old = ProcessHeartbeatFactory(role=ProcessRole.BEAT, stale=True)
    recent = ProcessHeartbeatFactory()
    # a single task's unit test: run it in-process, as the worker would
    assert purge_stale_heartbeats.apply().get() == 1
    assert list(ProcessHeartbeat.objects.all()) == [recent]
    assert not ProcessHeartbeat.objects.filter(pk=old.pk).exists()


class _FakeTimer:
    def __init__(self):
        self.calls = []

    def call_repeatedly(self, seconds, function, args):
        self.calls.append((seconds, function, args))
        return SimpleNamespace(cancel=lambda: self.calls.clear())


def test_the_worker_step_beats_on_its_own_timer_and_forgets_itself_on_stop(transactional_db):
    worker = SimpleNamespace(hostname="celery@unit", timer=_FakeTimer())
    step = HeartbeatStep(worker)
    step.start(worker)
    row = ProcessHeartbeat.objects.get(role=ProcessRole.WORKER, hostname="celery@unit")
    seconds, function, args = worker.timer.calls[0]
    assert seconds == settings.HEARTBEAT_INTERVAL_SECONDS
    function(*args)
    assert ProcessHeartbeat.objects.get(pk=row.pk).last_beat_at > row.last_beat_at
    step.stop(worker)
    assert worker.timer.calls == []
    assert not ProcessHeartbeat.objects.filter(role=ProcessRole.WORKER).exists()


def test_beat_records_its_own_liveness_between_ticks_and_forgets_it_on_close(transactional_db, tmp_path):
    from core.celery_beat import LivenessScheduler

    scheduler = LivenessScheduler(app=app, schedule_filename=str(tmp_path / "beat-schedule"))
    try:
        sleep_for = scheduler.tick()
        assert sleep_for <= settings.HEARTBEAT_INTERVAL_SECONDS
        beat = ProcessHeartbeat.objects.get(role=ProcessRole.BEAT)
        assert beat.hostname.startswith("beat@")
        assert not ProcessHeartbeat.objects.filter(role=ProcessRole.WORKER).exists()
    finally:
        scheduler.close()
    assert not ProcessHeartbeat.objects.filter(role=ProcessRole.BEAT).exists()
