"""Freeze: any TensorFlow/Keras source -> one self-describing, self-verifying .pb.

``pipeline`` runs the stages (open, name, optimize, verify, sign, write);
``sources/`` has one module per source kind; ``optimize`` runs grappler in a
child process; ``graph_edit`` and ``keras_io`` are the helpers they share.
Imports the runtime (to verify with Python TensorFlow's run of the frozen
graph), never the measuring tools or the command line.
"""

from __future__ import annotations

from tfreeze.freezer.pipeline import FreezeOptions, FreezeReport, freeze

__all__ = ["FreezeOptions", "FreezeReport", "freeze"]
