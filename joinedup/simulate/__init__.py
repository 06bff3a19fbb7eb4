"""A realistic multi-channel council simulator with ground truth kept aside.

Its names load on first use (PEP 562): the simulator pulls in faker and scipy, and every `joinedup` command
imports joinedup.simulate.cli, so an eager import cost each of them ~0.5 s and the memory of both.
"""

from typing import TYPE_CHECKING, Any

__all__ = ["CHANNELS", "SERVICES", "Settings", "Summary", "simulate"]
_FROM = {"Summary": "run", "simulate": "run", "CHANNELS": "settings", "SERVICES": "settings", "Settings": "settings"}

if TYPE_CHECKING:
    from joinedup.simulate.run import Summary, simulate
    from joinedup.simulate.settings import CHANNELS, SERVICES, Settings


def __getattr__(name: str) -> Any:
    if name not in _FROM:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{_FROM[name]}"), name)
