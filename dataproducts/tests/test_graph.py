"""The component dependency graph drawn: nodes placed in their layers (core.graphs computes them), one arrow
per edge (solid for dependsOn, dashed for lineage, with a legend when both are drawn), escaped text, and cycles
that still draw (and end)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from dataproducts.graph import (
    EDGE_STYLES,
    LAYER_GAP,
    NODE_WIDTH,
    GraphEdge,
    GraphNode,
    component_graph_svg,
    graph_place,
    graph_svg,
)


def urn(slug: str) -> str:
    return f"urn:dmb:cmp:finance:cashflow:0:{slug}"


def component(slug: str, *depends_on: str, kind: str = "workload", title: str = "") -> SimpleNamespace:
    """What the graph reads of a ``Component`` row."""
    return SimpleNamespace(
        component_id=urn(slug),
        slug=slug,
        kind=kind,
        display_name=title or slug,
        depends_on=[urn(target) for target in depends_on],
    )


def svg_of(*components: SimpleNamespace) -> str:
    return component_graph_svg(components=components, url_of=lambda c: f"/dp/finance.cashflow.0/c/{c.slug}/", label="G")


def node_x(svg: str, slug: str) -> int:
    match = re.search(rf'href="/dp/finance.cashflow.0/c/{slug}/"><title>[^<]*</title><rect x="(\d+)"', svg)
    assert match, f"no node {slug}"
    return int(match.group(1))


# --- layers --------------------------------------------------------------------------------------------------


def test_unrelated_components_share_the_first_layer_in_the_order_given():
    placed = graph_place(nodes=[GraphNode(key=k, label=k) for k in ("b", "a", "c")], edges=[])

    assert [(p.node.key, p.layer, p.row) for p in placed] == [("b", 0, 0), ("a", 0, 1), ("c", 0, 2)]


def test_the_layout_is_the_same_every_time_for_the_same_input():
    components = [component("store"), component("job", "store"), component("port", "job"), component("audit")]
    assert svg_of(*components) == svg_of(*components)


def test_dependents_are_drawn_to_the_right_of_their_dependencies():
    svg = svg_of(component("port", "job", kind="outputport"), component("job", "store"), component("store"))

    assert node_x(svg, "store") < node_x(svg, "job") < node_x(svg, "port")
    assert node_x(svg, "job") - node_x(svg, "store") == NODE_WIDTH + LAYER_GAP


# --- cycles --------------------------------------------------------------------------------------------------


@pytest.mark.timeout(5)
def test_a_component_that_depends_on_itself_still_gets_a_node_and_an_arrow():
    svg = svg_of(component("loop", "loop"))

    assert svg.count('class="graph-node"') == 1
    assert svg.count('class="graph-edge"') == 1


@pytest.mark.timeout(5)
def test_a_cyclic_data_product_draws_every_node_and_every_edge():
    svg = svg_of(component("a", "b"), component("b", "c"), component("c", "a", "b"))

    assert svg.count('class="graph-node"') == 3
    assert svg.count('class="graph-edge"') == 4


# --- drawing -------------------------------------------------------------------------------------------------


def test_each_component_is_a_link_to_its_page_with_a_title_for_screen_readers():
    svg = svg_of(component("store", kind="storage", title="Raw data"), component("job", "store"))

    assert svg.startswith('<svg class="dependency-graph"')
    assert 'role="group" aria-label="G"' in svg
    assert '<a class="graph-node" href="/dp/finance.cashflow.0/c/store/">' in svg
    assert f"<title>Raw data (storage): {urn('store')}</title>" in svg
    assert '<a class="graph-node" href="/dp/finance.cashflow.0/c/job/">' in svg


def test_each_depends_on_is_one_edge_with_an_arrow_marker():
    svg = svg_of(component("store"), component("job", "store"), component("port", "job", "store"))

    assert svg.count('class="graph-edge"') == 3
    assert svg.count('marker-end="url(#dp-arrow)"') == 3
    assert '<marker id="dp-arrow"' in svg
    assert "<title>job depends on store</title>" in svg
    assert "<title>port depends on job</title>" in svg


def test_a_dependency_listed_twice_is_drawn_once():
    svg = graph_svg(
        nodes=[GraphNode(key="a", label="a", url="/a"), GraphNode(key="b", label="b", url="/b")],
        edges=[GraphEdge("a", "b"), GraphEdge("a", "b")],
        label="G",
    )
    assert svg.count('class="graph-edge"') == 1


def test_a_dependency_is_drawn_solid_and_one_style_needs_no_legend():
    svg = svg_of(component("store"), component("job", "store"))

    assert "stroke-dasharray" not in svg
    assert "graph-legend" not in svg


def test_a_lineage_edge_is_drawn_dashed_and_the_legend_names_both_styles():
    nodes = [GraphNode(key=key, label=key, url=f"/{key}") for key in ("store", "job", "port")]
    svg = graph_svg(
        nodes=nodes,
        edges=[GraphEdge("store", "job"), GraphEdge("job", "port", style="lineage")],
        label="G",
    )

    dashed = EDGE_STYLES["lineage"].dasharray
    lineage = re.search(r'<path class="graph-edge"[^>]*><title>port reads from job</title>', svg)
    depends = re.search(r'<path class="graph-edge"[^>]*><title>job depends on store</title>', svg)
    assert lineage and f'stroke-dasharray="{dashed}"' in lineage.group(0)
    assert depends and "stroke-dasharray" not in depends.group(0)
    legend = re.search(r'<g class="graph-legend">.*</g>', svg)
    assert legend, "no legend"
    assert ">Depends on</text>" in legend.group(0) and ">Reads from (lineage)</text>" in legend.group(0)
    assert legend.group(0).count("<line ") == 2 and legend.group(0).count(f'stroke-dasharray="{dashed}"') == 1


def test_an_unknown_edge_style_is_refused():
    with pytest.raises(ValueError, match="unknown edge style"):
        GraphEdge("a", "b", style="dotted")


def test_a_dependency_on_a_missing_component_is_a_dashed_node_without_a_link():
    svg = svg_of(component("port", "gone"))

    assert 'class="graph-node graph-node-missing"' in svg
    assert f"<title>{urn('gone')}: no such component</title>" in svg
    assert svg.count("<a ") == 1
    assert svg.count('class="graph-edge"') == 1


def test_every_text_is_escaped():
    hostile = '<script>alert("x")</script>'
    svg = graph_svg(
        nodes=[
            GraphNode(key="a", label=hostile, kind="<b>", url='/x?a="1"&b=<2>', title=hostile),
            GraphNode(key="b", label="b&c", url="/b"),
        ],
        edges=[GraphEdge(dependency="a", dependent="b")],
        label='graph "of" <things>',
    )

    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;script&gt;" in svg
    assert 'href="/x?a=&quot;1&quot;&amp;b=&lt;2&gt;"' in svg
    assert 'aria-label="graph &quot;of&quot; &lt;things&gt;"' in svg
    assert "b&amp;c" in svg


def test_long_titles_are_shortened_on_the_node_and_kept_whole_in_its_title():
    title = "A very long output port title that does not fit"
    svg = svg_of(component("port", title=title))

    assert f"<title>{title} (workload): {urn('port')}</title>" in svg
    assert "A very long output port…" in svg


def test_no_components_draw_nothing():
    assert svg_of() == ""
