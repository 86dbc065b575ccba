"""The package version, a leaf so that any stage can record it without
importing the package's public face (which imports every stage)."""

__version__ = "0.1.0"
