"""A realistic multi-channel council simulator with ground truth kept aside."""

from joinedup.simulate.run import Summary, simulate
from joinedup.simulate.settings import CHANNELS, SERVICES, Settings

__all__ = ["CHANNELS", "SERVICES", "Settings", "Summary", "simulate"]
