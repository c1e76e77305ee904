"""The one declaration of every op: its name, entity, payload schema, who may use it, and
its check and apply steps. Everything else that names ops is derived from here: the push
envelope's op choices, the tables push reads for new ids, the OpenAPI document and the
PWA's op list (server.contract)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import cast

from marshmallow import fields, validate
from sqlalchemy import Table

from server.schemas.sync import MutationSchema
from server.sync.ops import OpSpec


class Registry:
    """The ops by name, and what is derived from them (recomputed when one is added)."""

    def __init__(self) -> None:
        self._ops: dict[str, OpSpec] = {}
        self.version = 0  # changes with the ops: caches of derived documents key on it

    def add(self, *specs: OpSpec) -> None:
        for spec in specs:
            if spec.name in self._ops:
                raise ValueError(f"op declared twice: {spec.name}")
            self._ops[spec.name] = spec
        self._forget_derived()

    def remove(self, name: str) -> None:
        del self._ops[name]
        self._forget_derived()

    def _forget_derived(self) -> None:
        self.version += 1
        for name in ("pushable", "envelope_schema", "create_tables", "creating_ops"):
            self.__dict__.pop(name, None)

    def get(self, name: str) -> OpSpec:
        """Unknown ops never reach here: the envelope schema refuses them."""
        return self._ops[name]

    def __iter__(self) -> Iterator[OpSpec]:
        return iter(self._ops.values())

    @cached_property
    def pushable(self) -> tuple[OpSpec, ...]:
        return tuple(spec for spec in self._ops.values() if spec.pushable)

    @cached_property
    def envelope_schema(self) -> MutationSchema:
        """The push envelope, its op one of the pushable ops."""
        names = [spec.name for spec in self.pushable]
        op = fields.String(required=True, validate=validate.OneOf(names))
        envelope = MutationSchema.from_dict({"op": op}, name="MutationSchema")
        return cast(MutationSchema, envelope())

    @cached_property
    def creating_ops(self) -> frozenset[str]:
        """The pushable ops that create a record."""
        return frozenset(spec.name for spec in self.pushable if spec.creates)

    @cached_property
    def create_tables(self) -> dict[str, Table]:
        """Entity -> table, for the entities that pushable ops create."""
        return {spec.entity: spec.table for spec in self.pushable if spec.table is not None}

    @contextmanager
    def extra(self, *specs: OpSpec) -> Iterator[None]:
        """Ops added for a while (tests declare a dummy op with it)."""
        self.add(*specs)
        try:
            yield
        finally:
            for spec in specs:
                self.remove(spec.name)


def _declare() -> Registry:
    from server.sync import ops_cases, ops_checkins, ops_conflicts, ops_handoffs

    registry = Registry()
    for module in (ops_cases, ops_checkins, ops_conflicts, ops_handoffs):
        registry.add(*module.OPS)
    return registry


REGISTRY = _declare()
