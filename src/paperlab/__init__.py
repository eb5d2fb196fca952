"""paperlab: working, tested, fast implementations of papers, with their claims checked by running them."""

__version__ = "0.1.0"
