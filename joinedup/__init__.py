"""joinedup: join up what citizens do across every contact channel."""

__version__ = "0.1.0"
