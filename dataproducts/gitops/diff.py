"""Diffs of a file before and after a change: side by side for pages, unified for the API."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass
class DiffRow:
    old_no: int | None
    old: str
    new_no: int | None
    new: str
    change: str  # equal, replace, delete, insert, skip


def diff_rows(old: str, new: str, *, context: int = 2) -> list[DiffRow]:
    """Side-by-side rows of the changed lines with ``context`` equal lines around them; each longer run of
    equal lines becomes one ``skip`` row."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False).get_opcodes():
        for k in range(max(i2 - i1, j2 - j1)):
            old_no = i1 + k + 1 if i1 + k < i2 else None
            new_no = j1 + k + 1 if j1 + k < j2 else None
            change = tag if tag != "replace" or (old_no and new_no) else ("delete" if old_no else "insert")
            rows.append(
                DiffRow(
                    old_no,
                    old_lines[old_no - 1] if old_no else "",
                    new_no,
                    new_lines[new_no - 1] if new_no else "",
                    change,
                )
            )
    changed = [index for index, row in enumerate(rows) if row.change != "equal"]
    shown: list[DiffRow] = []
    for index, row in enumerate(rows):
        if row.change != "equal" or any(abs(index - c) <= context for c in changed):
            shown.append(row)
        elif not shown or shown[-1].change != "skip":
            shown.append(DiffRow(None, "", None, "", "skip"))
    return shown


def unified_diff(old: str, new: str) -> str:
    """The change as a unified diff (``before`` → ``after``), as the API returns it."""
    return "".join(difflib.unified_diff(old.splitlines(True), new.splitlines(True), "before", "after"))
