"""Dependency graphs, one implementation for every app: the cycles that validation reports (catalog rules and
the descriptor), the longest-path layers that the component graph draws and that a deployment walks (each layer
after the ones it depends on), and the reverse order that undoes one.

A graph is a mapping ``node → the nodes it depends on``. Every walk keeps its own stack, so a long chain of
nodes cannot exhaust Python's recursion limit, and visits nodes in a fixed order, so results are stable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["cycles", "layer_groups", "layers", "reverse_groups"]


def cycles(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The cycles of a dependency graph (targets outside ``edges`` are ignored): one per back edge of a
    depth-first walk in sorted order, the first node repeated at the end and rotated to start at the smallest;
    cutting every cycle reported leaves the graph acyclic."""
    edges = {node: [target for target in targets if target in edges] for node, targets in edges.items()}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    found: list[list[str]] = []
    seen: set[tuple[str, ...]] = set()
    for start in sorted(edges):
        if start in state:
            continue
        path = [start]
        state[start] = 1
        iterators = [iter(edges[start])]
        while iterators:
            target = next(iterators[-1], None)
            if target is None:
                iterators.pop()
                state[path.pop()] = 2
            elif state.get(target) == 1:
                loop = path[path.index(target) :]
                first = loop.index(min(loop))
                rotated = tuple(loop[first:] + loop[:first])
                if rotated not in seen:
                    seen.add(rotated)
                    found.append([*rotated, rotated[0]])
            elif target not in state:
                state[target] = 1
                path.append(target)
                iterators.append(iter(edges[target]))
    return found


def layers(*, keys: Sequence[str], depends_on: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """The layer of every key: 0 when it depends on nothing, else one more than the deepest of its dependencies.
    Dependencies that are not among ``keys`` are ignored.

    A cycle (which validation reports as an error, but a page must still draw) is broken at the edge that closes
    it in a depth-first walk from the keys in order, so the result is stable and the walk always ends."""
    known = set(keys)
    result: dict[str, int] = {}
    on_stack: set[str] = set()
    for start in keys:
        if start in result:
            continue
        stack = [(start, iter(depends_on.get(start, ())))]
        on_stack.add(start)
        while stack:
            key, pending = stack[-1]
            for dependency in pending:
                # unknown keys, edges back into the current path (cycles) and finished keys need no walk
                if dependency in known and dependency not in result and dependency not in on_stack:
                    stack.append((dependency, iter(depends_on.get(dependency, ()))))
                    on_stack.add(dependency)
                    break
            else:
                stack.pop()
                on_stack.discard(key)
                finished = [result[d] for d in depends_on.get(key, ()) if d in result]
                result[key] = 1 + max(finished) if finished else 0
    return result


def layer_groups(*, keys: Sequence[str], depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """The keys grouped by layer, first the ones that depend on nothing: the order of a deployment, where every
    key of a group can go at once once the groups before it are done. Within a group, keys keep their order."""
    placed = layers(keys=keys, depends_on=depends_on)
    groups: list[list[str]] = [[] for _ in range(max(placed.values(), default=-1) + 1)]
    for key in dict.fromkeys(keys):  # a key named twice is deployed once
        groups[placed[key]].append(key)
    return groups


def reverse_groups(*, keys: Sequence[str], depends_on: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """:func:`layer_groups` last layer first: the order that undoes a deployment (dependents before what they
    depend on)."""
    return list(reversed(layer_groups(keys=keys, depends_on=depends_on)))
