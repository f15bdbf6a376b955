"""The engine registry: the four engines of the default settings, and an unknown name refused."""

import pytest

from governance.engines import UnknownEngine, engine_choices, engine_get, engines


def test_the_default_settings_register_the_four_engines():
    registered = engines()

    assert list(registered) == ["jsonschema", "rego", "remote", "breaking_change"]
    assert all(name == engine.name for name, engine in registered.items())
    assert [label for _name, label in engine_choices()] == [engine.label for engine in registered.values()]


def test_every_engine_implements_the_whole_interface():
    for engine in engines().values():
        assert engine.label
        assert callable(engine.check)
        assert callable(engine.evaluate)
        assert callable(engine.evaluate_many)
        assert engine.evaluate_many("", []) == []


def test_an_unknown_engine_is_refused_with_the_known_ones():
    with pytest.raises(
        UnknownEngine, match="'nope' is not an engine; known: jsonschema, rego, remote, breaking_change"
    ):
        engine_get("nope")
