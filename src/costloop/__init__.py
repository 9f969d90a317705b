"""costloop: an open-source FinOps platform on FOCUS billing data."""

__all__ = ["__version__"]

__version__ = "0.1.0"
