"""An output port's data contract as pages read it (PRODUCT §4.3): its columns, terms and SLA, read leniently from
a component's ``spec.mesh`` or from a component of a built descriptor. The one reader that the component page,
governance and the marketplace share, so they show a contract the same way; validation is
:mod:`dataproducts.descriptor.validate`'s business, so nothing here raises and a wrong value reads as absent."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Column", "DataContract", "ServiceLevel", "contract_of"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of ``dataContract.schema``. Sizes are kept as written (normally whole numbers); text fields
    are ``""`` when absent. ``tags`` are names: plain strings in Meshforge's own files, the ``tagFQN`` of
    OpenMetadata tag labels (``{tagFQN: PII, …}``) in Witboost's."""

    name: str
    data_type: str
    data_length: int | float | str | None = None
    precision: int | float | str | None = None
    scale: int | float | str | None = None
    constraint: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()

    @property
    def type_label(self) -> str:
        """``DECIMAL(10, 2)``, ``TEXT(255)``, or the bare type, as the DPS data contract spells columns."""
        sizes = [size for size in (self.precision, self.scale) if size is not None]
        if not sizes and self.data_length is not None:
            sizes = [self.data_length]
        return (
            f"{self.data_type}({', '.join(str(size) for size in sizes)})"
            if self.data_type and sizes
            else self.data_type
        )


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """``dataContract.SLA``: how often the data changes, how late it may be, and how often it is up."""

    interval_of_change: str = ""
    timeliness: str = ""
    up_time: str = ""


@dataclass(frozen=True, slots=True)
class DataContract:
    """``dataContract`` of an output port."""

    columns: tuple[Column, ...] = ()
    terms_and_conditions: str = ""
    sla: ServiceLevel | None = None


def contract_of(source: object) -> DataContract | None:
    """The data contract of ``source``: a component's catalog document (read from its ``spec.mesh``), its
    ``spec.mesh``, or a component of a built descriptor. None when it has none (no ``dataContract``, or an empty
    or malformed one)."""
    if isinstance(source, dict) and isinstance(source.get("spec"), dict):
        source = source["spec"].get("mesh")
    contract = source.get("dataContract") if isinstance(source, dict) else None
    if not isinstance(contract, dict) or not contract:
        return None
    schema = contract.get("schema")
    sla = contract.get("SLA")
    return DataContract(
        columns=tuple(
            _column(column) for column in (schema if isinstance(schema, list) else []) if isinstance(column, dict)
        ),
        terms_and_conditions=_text(contract.get("termsAndConditions")),
        sla=ServiceLevel(
            interval_of_change=_text(sla.get("intervalOfChange")),
            timeliness=_text(sla.get("timeliness")),
            up_time=_text(sla.get("upTime")),
        )
        if isinstance(sla, dict)
        else None,
    )


def _column(column: dict) -> Column:
    return Column(
        name=str(column.get("name") or ""),
        data_type=str(column.get("dataType") or ""),
        data_length=_size(column.get("dataLength")),
        precision=_size(column.get("precision")),
        scale=_size(column.get("scale")),
        constraint=str(column.get("constraint") or ""),
        description=_text(column.get("description")),
        tags=_tag_names(column.get("tags")),
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _size(value: object) -> int | float | str | None:
    return value if isinstance(value, int | float | str) and not isinstance(value, bool) else None


def _tag_names(tags: object) -> tuple[str, ...]:
    names = []
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict):
            tag = tag.get("tagFQN")
        if isinstance(tag, str | int | float):
            names.append(str(tag))
    return tuple(names)
