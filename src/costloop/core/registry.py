"""A small typed registry of plugins keyed by stable, user-facing names."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from costloop.core.errors import NotFoundError

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps kebab-case names to plugin classes; modules are imported lazily.

    Args:
        kind: what is registered (used in error messages), e.g. ``"detector"``.
        modules: dotted module names imported on first lookup; importing them
            registers their plugins, so ``import costloop`` stays fast.
    """

    def __init__(self, kind: str, modules: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self._modules = modules
        self._loaded = False
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Class decorator registering a plugin under ``name``."""

        def decorator(item: T) -> T:
            if name in self._items and self._items[name] is not item:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = item
            return item

        return decorator

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def get(self, name: str) -> T:
        """The plugin registered as ``name``; NotFoundError lists the known names."""
        self._load()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise NotFoundError(f"unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        """All registered names, sorted."""
        self._load()
        return sorted(self._items)

    def __iter__(self) -> Iterator[tuple[str, T]]:
        self._load()
        return iter(sorted(self._items.items()))

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items
