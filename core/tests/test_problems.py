import dataclasses

import pytest

from core.problems import Problem, Problems, Severity, messages


def test_a_problem_reads_path_colon_message():
    assert str(Problem("components[0].id", "is required")) == "components[0].id: is required"


def test_a_problem_with_a_source_reads_as_the_catalog_writes_it():
    problem = Problem("metadata.name", "is required", source="catalog-info.yaml")

    assert str(problem) == "catalog-info.yaml: metadata.name is required"


def test_an_empty_source_still_reads_as_a_source():
    assert str(Problem("kind", "is required", source="")) == ": kind is required"


def test_a_problem_is_an_error_without_a_code_unless_told_otherwise():
    problem = Problem("a", "b")

    assert (problem.severity, problem.code, problem.is_error) == (Severity.ERROR, "", True)


def test_a_problem_is_frozen_and_hashable():
    problem = Problem("a", "b")

    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.path = "c"
    assert len({problem, Problem("a", "b")}) == 1


def test_a_problem_may_be_downgraded_to_a_warning():
    warning = Problem("a", "b", code="schema").with_severity(Severity.WARNING)

    assert warning == Problem("a", "b", Severity.WARNING, "schema")
    assert not warning.is_error


def test_severities_are_governance_levels_plus_info():
    assert Severity.values == ["error", "warning", "info"]


def test_the_collector_keeps_the_order_problems_were_added_in():
    problems = Problems()
    problems.add("b", "second comes first")
    problems.add("a", "first comes second")

    assert problems.messages() == ["b: second comes first", "a: first comes second"]
    assert [problem.path for problem in problems] == ["b", "a"]


def test_an_empty_collector_is_false_and_a_filled_one_true():
    problems = Problems()
    assert not problems
    assert len(problems) == 0

    problems.add("a", "b")

    assert problems
    assert len(problems) == 1


def test_the_collector_stamps_its_source_and_default_code():
    problems = Problems(source="file.yaml", code="schema")

    added = problems.add("kind", "is required")

    assert added == Problem("kind", "is required", Severity.ERROR, "schema", "file.yaml")
    assert problems.messages() == ["file.yaml: kind is required"]


def test_an_explicit_code_wins_over_the_default():
    problems = Problems(code="schema")

    assert problems.add("a", "b", code="ref").code == "ref"


def test_a_coded_view_adds_to_the_same_list_under_its_own_code():
    problems = Problems(source="f", code="schema")

    problems.coded("cycle").add("a", "loops")
    problems.add("b", "is wrong")

    assert [(problem.code, problem.source) for problem in problems] == [("cycle", "f"), ("schema", "f")]


def test_errors_and_warnings_are_told_apart():
    problems = Problems()
    problems.add("a", "blocks")
    problems.add("b", "does not block", severity=Severity.WARNING)
    problems.add("c", "says something", severity=Severity.INFO)

    assert [problem.path for problem in problems.errors()] == ["a"]
    assert [problem.path for problem in problems.warnings()] == ["b"]


def test_extend_keeps_the_problems_as_they_are():
    elsewhere = Problem("x", "y", Severity.WARNING, "adapter", "other.yaml")
    problems = Problems(source="mine.yaml", code="schema")

    problems.extend([elsewhere])

    assert list(problems) == [elsewhere]


def test_messages_of_any_iterable_of_problems():
    assert messages([Problem("a", "b"), Problem("c", "d", source="s")]) == ["a: b", "s: c d"]
