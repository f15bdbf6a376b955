"""core.graphs: cycles, longest-path layers, deployment groups and their reverse, stable and stack-safe."""

from __future__ import annotations

import pytest

from core.graphs import cycles, layer_groups, layers, reverse_groups

# --- layers ---------------------------------------------------------------------------------------------------


def test_a_node_that_depends_on_nothing_is_in_the_first_layer_and_each_dependent_one_layer_further():
    assert layers(keys=["port", "job", "store"], depends_on={"port": ["job"], "job": ["store"]}) == {
        "store": 0,
        "job": 1,
        "port": 2,
    }


def test_the_layer_is_the_longest_path_not_the_shortest():
    # port depends on store directly and through job: it must come after job, not beside it
    placed = layers(keys=["store", "job", "port"], depends_on={"job": ["store"], "port": ["store", "job"]})
    assert placed == {"store": 0, "job": 1, "port": 2}


def test_dependencies_on_unknown_keys_are_ignored():
    assert layers(keys=["a"], depends_on={"a": ["elsewhere"]}) == {"a": 0}


@pytest.mark.timeout(5)
def test_a_cycle_is_broken_where_the_walk_closes_it_and_the_walk_ends():
    assert layers(keys=["a", "b", "c"], depends_on={"a": ["b"], "b": ["c"], "c": ["a"]}) == {"c": 0, "b": 1, "a": 2}


@pytest.mark.timeout(10)
def test_a_very_long_chain_does_not_exhaust_the_recursion_limit():
    keys = [f"c{index}" for index in range(5000)]
    depends_on = {keys[index]: [keys[index + 1]] for index in range(len(keys) - 1)}

    placed = layers(keys=keys, depends_on=depends_on)

    assert placed["c4999"] == 0 and placed["c0"] == 4999
    assert cycles(depends_on | {"c4999": []}) == []


# --- deployment order ------------------------------------------------------------------------------------------


def test_groups_deploy_what_depends_on_nothing_first_and_keep_the_order_given_within_a_group():
    keys = ["port", "audit", "job", "store", "cache", "job"]
    depends_on = {"port": ["job", "cache"], "job": ["store"], "cache": ["store"]}

    assert layer_groups(keys=keys, depends_on=depends_on) == [["audit", "store"], ["job", "cache"], ["port"]]
    assert reverse_groups(keys=keys, depends_on=depends_on) == [["port"], ["job", "cache"], ["audit", "store"]]


def test_no_keys_no_groups():
    assert layer_groups(keys=[], depends_on={}) == [] and reverse_groups(keys=[], depends_on={}) == []


# --- cycles ---------------------------------------------------------------------------------------------------


def test_each_cycle_is_reported_once_rotated_to_start_at_its_smallest_node():
    edges = {"c": ["a"], "a": ["b"], "b": ["c"], "d": ["d"], "e": ["a"]}
    assert cycles(edges) == [["a", "b", "c", "a"], ["d", "d"]]


def test_targets_outside_the_graph_and_acyclic_graphs_have_no_cycle():
    assert cycles({"a": ["b", "outside"], "b": []}) == []


def test_cutting_every_reported_cycle_leaves_the_graph_acyclic():
    edges = {"a": ["b", "c"], "b": ["a", "c"], "c": ["a"]}
    for found in cycles(edges):
        edges[found[-2]] = [target for target in edges[found[-2]] if target != found[-1]]
    assert cycles(edges) == []
