"""Run: a frozen .pb in the C++ runtime (``Model``), the feeds
that fit its signature, and Python TensorFlow's own run of the same file (the
reference the C++ runtime must match bit for bit).

Never imports the freezer, the measuring tools or the command line.
``Model`` does not import TensorFlow's Python package.
"""

from __future__ import annotations

from tfreeze.runtime.aligned import empty_aligned, is_aligned
from tfreeze.runtime.model import FileInfo, Model, TensorSpec, inspect_file
from tfreeze.runtime.options import make_options

__all__ = [
    "FileInfo",
    "Model",
    "TensorSpec",
    "empty_aligned",
    "inspect_file",
    "is_aligned",
    "make_options",
]
