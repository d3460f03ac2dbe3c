# SPDX-License-Identifier: AGPL-3.0-or-later
"""Typed registries: how a lower layer lets a higher one plug in without importing it.

The layers (``core < ledger < customers < invoicing < payments < {banking, einvoicing} <
notifications < {api, web}``, checked by import-linter) forbid an import upward. When a lower
layer must trigger a higher one (an invoice was issued: e-mail it, collect it), it owns a
:class:`Registry` of small objects with a documented contract, and the higher layer registers
its implementation in its ``AppConfig.ready()``. Registration is explicit and checked: an object
without an ``identifier`` or with one already taken is refused, so two apps can never silently
replace each other's hook (pretix's typed registries, conventions §6; no Django signals).

>>> class Hook:
...     identifier = "pdf"
>>> hooks: Registry[Hook] = Registry("issuance hooks")
>>> hooks.register(Hook())
>>> [h.identifier for h in hooks]
['pdf']
>>> hooks.register(Hook())
Traceback (most recent call last):
...
encaisse.core.registry.DuplicateIdentifier: issuance hooks: “pdf” is already registered
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol


class Identified(Protocol):
    @property
    def identifier(self) -> str: ...


class DuplicateIdentifier(ValueError):
    """Two registrations under one identifier: a configuration error, raised at start-up."""


class Registry[T: Identified]:
    """Objects by identifier, in registration order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, T] = {}

    def register(self, item: T) -> None:
        identifier = getattr(item, "identifier", "")
        if not isinstance(identifier, str) or not identifier:
            raise TypeError(f"{self.name}: {type(item).__name__} has no identifier")
        if identifier in self._items:
            raise DuplicateIdentifier(f"{self.name}: “{identifier}” is already registered")
        self._items[identifier] = item

    def unregister(self, identifier: str) -> T | None:
        """Remove a registration (tests swap implementations this way); the removed one."""
        return self._items.pop(identifier, None)

    def get(self, identifier: str) -> T:
        try:
            return self._items[identifier]
        except KeyError:
            raise LookupError(f"{self.name}: nothing registered as “{identifier}”") from None

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)
