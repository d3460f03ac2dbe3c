# SPDX-License-Identifier: AGPL-3.0-or-later
"""The payment providers in use, chosen by settings like Django's e-mail backends.

``ENCAISSE_PAYMENT_PROVIDERS`` lists dotted paths of :class:`~.base.PaymentProvider` classes;
:func:`configure` (called by ``PaymentsConfig.ready()``) instantiates each once and registers it
under its identifier in :data:`registry`. Tests choose the fake provider
(``encaisse.payments.providers.fake.FakeProvider``, Django's ``locmem`` backend for payments) by
changing the setting and calling :func:`configure` again.

Each provider is its own package under ``payments/providers/`` (``fake/``, later ``stripe/``,
``paypal/``): ``client.py`` alone talks to the outside world, ``provider.py`` implements the
contract of :mod:`.base`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from encaisse.core.registry import Registry

from ..models import PaymentMethod
from .base import PaymentProvider

#: No provider unless configured: a deployment lists the ones it holds contracts and keys for.
DEFAULT_PROVIDERS: tuple[str, ...] = ()

registry: Registry[PaymentProvider] = Registry("payment providers")


def configured_paths() -> list[str]:
    return list(getattr(settings, "ENCAISSE_PAYMENT_PROVIDERS", DEFAULT_PROVIDERS))


def load(path: str) -> PaymentProvider:
    """Instantiate the provider class at ``path``, checking it honours the contract's basics."""
    cls = import_string(path)
    if not (isinstance(cls, type) and issubclass(cls, PaymentProvider)):
        raise ImproperlyConfigured(f"{path} is not a PaymentProvider")
    provider = cls()
    # Money recorded by hand is keyed topup:<method>:<ref>: a provider of the same name would
    # share those keys (and accounts) with it.
    if provider.identifier in PaymentMethod.values:
        raise ImproperlyConfigured(
            f"{path}: identifier “{provider.identifier}” is a payment method recorded by hand"
        )
    return provider


def configure(paths: Iterable[str] | None = None) -> list[PaymentProvider]:
    """(Re)fill :data:`registry` from ``paths`` (default: the setting); the providers."""
    providers = [load(path) for path in (configured_paths() if paths is None else paths)]
    for old in registry:
        registry.unregister(old.identifier)
    for provider in providers:
        registry.register(provider)
    return providers


def get(identifier: str) -> PaymentProvider:
    """The provider registered as ``identifier`` (``LookupError`` if none)."""
    return registry.get(identifier)
