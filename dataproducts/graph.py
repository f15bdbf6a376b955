"""The component dependency graph of a data product, drawn on the server as inline SVG: one linked node per
component, one arrow per ``dependsOn``, in longest-path layers from left (components that depend on nothing)
to right. No JavaScript and no layout library: a data product has a handful of components, and the page must
read the same in every browser."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from core import graphs

NODE_WIDTH = 200
NODE_HEIGHT = 52
LAYER_GAP = 80  # horizontal room between layers, where the arrows run
ROW_GAP = 24
MARGIN = 12
LABEL_CHARS = 24  # what fits on one line of a node at the stylesheet's font size


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
    """``dependent`` depends on ``dependency``; the arrow runs from the dependency to the dependent, the way data
    flows (storage → workload → output port)."""

    dependency: str
    dependent: str


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


def graph_svg(*, nodes: Iterable[GraphNode], edges: Iterable[GraphEdge], label: str, id_prefix: str = "dp") -> str:
    """The graph as an ``<svg>`` element, every text escaped. ``label`` names the graph for screen readers;
    ``id_prefix`` keeps the arrow marker's id unique on the page."""
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
    edge_svg = format_html_join(
        "",
        '<path class="graph-edge" d="{}" marker-end="url(#{})"><title>{} depends on {}</title></path>',
        (
            (
                _edge_path(at[e.dependency], at[e.dependent]),
                marker,
                by_key[e.dependent].label,
                by_key[e.dependency].label,
            )
            for e in edges
        ),
    )
    node_svg = mark_safe("".join(_node_svg(p) for p in placed))  # noqa: S308 - each part built by format_html
    return format_html(
        '<svg class="dependency-graph" xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'viewBox="0 0 {w} {h}" role="group" aria-label="{label}">'
        '<defs><marker id="{marker}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>'
        "{edges}{nodes}</svg>",
        w=width,
        h=height,
        label=label,
        marker=escape(marker),
        edges=edge_svg,
        nodes=node_svg,
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
            edges.append(GraphEdge(dependency=dependency, dependent=component.component_id))
    return graph_svg(nodes=nodes, edges=edges, label=label)
