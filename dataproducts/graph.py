"""The component dependency graph of a data product, drawn on the server as inline SVG: one linked node per
component, one arrow per edge (solid for a ``dependsOn``, dashed for lineage), in the longest-path layers of
:func:`core.graphs.layers` from left (components that depend on nothing) to right, with a legend when edges of
more than one style are drawn. Drawing only: what the edges are is the caller's. No JavaScript and no layout
library: a data product has a handful of components, and the page must read the same in every browser."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from core import graphs

NODE_WIDTH = 200
NODE_HEIGHT = 52
LAYER_GAP = 80  # horizontal room between layers, where the arrows run
ROW_GAP = 24
MARGIN = 12
LABEL_CHARS = 24  # what fits on one line of a node at the stylesheet's font size
LEGEND_HEIGHT = 28  # the legend's row under the graph, when there is one
LEGEND_ITEM_WIDTH = 180  # a sample line and its text
LEGEND_LINE = 32  # the length of a legend's sample line


@dataclass(frozen=True)
class EdgeStyle:
    """How edges of one kind are drawn: ``verb`` reads between the two nodes' names in an edge's title
    (``job depends on store``), ``legend`` names the style in the legend, ``dasharray`` dashes the line (None
    draws it solid)."""

    verb: str
    legend: str
    dasharray: str | None = None


# In legend order. A dependsOn is solid; lineage (a component reading another's data) is dashed.
EDGE_STYLES = {
    "depends": EdgeStyle(verb="depends on", legend="Depends on"),
    "lineage": EdgeStyle(verb="reads from", legend="Reads from (lineage)", dasharray="6 4"),
}


@dataclass(frozen=True)
class GraphNode:
    """A component as the graph draws it. ``key`` is its id (what ``dependsOn`` names); ``url`` is None for a
    node that is only named by a ``dependsOn`` (dangling), drawn dashed and without a link."""

    key: str
    label: str
    kind: str = ""
    url: str | None = None
    title: str = ""


@dataclass(frozen=True)
class GraphEdge:
    """``dependent`` depends on (or, for lineage, reads from) ``dependency``; the arrow runs from the dependency
    to the dependent, the way data flows (storage → workload → output port). ``style`` is a key of
    :data:`EDGE_STYLES`."""

    dependency: str
    dependent: str
    style: str = "depends"

    def __post_init__(self) -> None:
        if self.style not in EDGE_STYLES:
            raise ValueError(f"unknown edge style {self.style!r}; expected one of {', '.join(EDGE_STYLES)}")


@dataclass(frozen=True)
class PlacedNode:
    node: GraphNode
    layer: int
    row: int

    @property
    def x(self) -> int:
        return MARGIN + self.layer * (NODE_WIDTH + LAYER_GAP)

    @property
    def y(self) -> int:
        return MARGIN + self.row * (NODE_HEIGHT + ROW_GAP)


def graph_place(*, nodes: list[GraphNode], edges: list[GraphEdge]) -> list[PlacedNode]:
    """Nodes with their layer (column) and row; within a layer the nodes keep the order they were given in."""
    keys = [node.key for node in nodes]
    depends_on: dict[str, list[str]] = {}
    for edge in edges:
        depends_on.setdefault(edge.dependent, []).append(edge.dependency)
    layers = graphs.layers(keys=keys, depends_on=depends_on)
    rows: dict[int, int] = {}
    placed = []
    for node in nodes:
        layer = layers[node.key]
        placed.append(PlacedNode(node=node, layer=layer, row=rows.get(layer, 0)))
        rows[layer] = rows.get(layer, 0) + 1
    return placed


def _label(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _edge_path(source: PlacedNode, target: PlacedNode) -> str:
    """A curve from the right side of the dependency to the left side of the dependent. An edge that runs
    backwards (a cycle) or within one layer leaves and enters on the same sides and bends around."""
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
    x2, y2 = target.x, target.y + NODE_HEIGHT // 2
    bend = max(LAYER_GAP // 2, (x2 - x1) // 2) if x2 > x1 else LAYER_GAP
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def _node_svg(placed: PlacedNode) -> SafeString:
    node = placed.node
    tooltip = node.title or node.key
    body = format_html(
        '<title>{}</title><rect x="{}" y="{}" width="{}" height="{}" rx="6"/>'
        '<text x="{}" y="{}" class="graph-label">{}</text><text x="{}" y="{}" class="graph-kind">{}</text>',
        tooltip,
        placed.x,
        placed.y,
        NODE_WIDTH,
        NODE_HEIGHT,
        placed.x + 10,
        placed.y + 21,
        _label(node.label),
        placed.x + 10,
        placed.y + 40,
        node.kind or "",
    )
    if node.url is None:
        return format_html('<g class="graph-node graph-node-missing">{}</g>', body)
    return format_html('<a class="graph-node" href="{}">{}</a>', node.url, body)


def _edge_svg(edge: GraphEdge, *, source: PlacedNode, target: PlacedNode, marker: str) -> SafeString:
    style = EDGE_STYLES[edge.style]
    return format_html(
        '<path class="graph-edge" d="{}"{} marker-end="url(#{})"><title>{} {} {}</title></path>',
        _edge_path(source, target),
        _dasharray(style),
        marker,
        target.node.label,
        style.verb,
        source.node.label,
    )


def _dasharray(style: EdgeStyle) -> SafeString:
    return format_html(' stroke-dasharray="{}"', style.dasharray) if style.dasharray else mark_safe("")


def _legend_svg(styles: list[str], *, y: int) -> SafeString:
    """One sample line and name per style, in a row under the graph."""
    items = []
    for index, key in enumerate(styles):
        x = MARGIN + index * LEGEND_ITEM_WIDTH
        items.append(
            format_html(
                '<line class="graph-legend-line" x1="{}" y1="{}" x2="{}" y2="{}"{}/>'
                '<text x="{}" y="{}" class="graph-kind">{}</text>',
                x,
                y,
                x + LEGEND_LINE,
                y,
                _dasharray(EDGE_STYLES[key]),
                x + LEGEND_LINE + 8,
                y + 4,
                EDGE_STYLES[key].legend,
            )
        )
    return format_html('<g class="graph-legend">{}</g>', mark_safe("".join(items)))  # noqa: S308 - format_html parts


def graph_svg(*, nodes: Iterable[GraphNode], edges: Iterable[GraphEdge], label: str, id_prefix: str = "dp") -> str:
    """The graph as an ``<svg>`` element, every text escaped. ``label`` names the graph for screen readers;
    ``id_prefix`` keeps the arrow marker's id unique on the page. When the edges drawn have more than one style,
    a legend under the graph names each."""
    nodes = list(nodes)
    by_key = {node.key: node for node in nodes}
    edges = [edge for edge in dict.fromkeys(edges) if edge.dependency in by_key and edge.dependent in by_key]
    placed = graph_place(nodes=nodes, edges=edges)
    if not placed:
        return ""
    at = {p.node.key: p for p in placed}
    width = 2 * MARGIN + (max(p.layer for p in placed) + 1) * (NODE_WIDTH + LAYER_GAP) - LAYER_GAP
    height = 2 * MARGIN + (max(p.row for p in placed) + 1) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    marker = f"{id_prefix}-arrow"
    edge_svg = mark_safe(  # noqa: S308 - each part built by format_html
        "".join(_edge_svg(e, source=at[e.dependency], target=at[e.dependent], marker=marker) for e in edges)
    )
    styles = [key for key in EDGE_STYLES if any(edge.style == key for edge in edges)]
    legend_svg = mark_safe("")
    if len(styles) > 1:
        legend_svg = _legend_svg(styles, y=height + LEGEND_HEIGHT // 2 - MARGIN // 2)
        height += LEGEND_HEIGHT
        width = max(width, 2 * MARGIN + len(styles) * LEGEND_ITEM_WIDTH)
    node_svg = mark_safe("".join(_node_svg(p) for p in placed))  # noqa: S308 - each part built by format_html
    return format_html(
        '<svg class="dependency-graph" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" role="group" aria-label="{label}">'
        '<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        "{edges}{nodes}{legend}</svg>",
        w=width,
        h=height,
        label=label,
        marker=escape(marker),
        edges=edge_svg,
        nodes=node_svg,
        legend=legend_svg,
    )


def component_graph_svg(*, components: Iterable, url_of, label: str) -> str:
    """The graph of a data product's components (``Component`` rows, in the order given); ``url_of(component)``
    gives each node's link. A ``dependsOn`` naming no component of the product becomes a dashed node."""
    components = list(components)
    nodes = [
        GraphNode(
            key=component.component_id,
            label=component.display_name,
            kind=component.kind,
            url=url_of(component),
            title=f"{component.display_name} ({component.kind}): {component.component_id}",
        )
        for component in components
    ]
    known = {node.key for node in nodes}
    edges = []
    for component in components:
        for dependency in component.depends_on if isinstance(component.depends_on, list) else []:
            if not isinstance(dependency, str):
                continue
            if dependency not in known:
                known.add(dependency)
                nodes.append(GraphNode(key=dependency, label=dependency.rsplit(":", 1)[-1], kind="not found",
                                       title=f"{dependency}: no such component"))  # fmt: skip
            edges.append(GraphEdge(dependency=dependency, dependent=component.component_id, style="depends"))
    return graph_svg(nodes=nodes, edges=edges, label=label)
