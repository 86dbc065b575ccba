"""Looking at a frozen graph: op counts and parameters (``stats``), a Graphviz
drawing with name scopes collapsed (``draw``), and a TensorBoard event file.

Never imports the freezer or the command line; reads GraphDefs with
TensorFlow's protobuf classes (imported inside the functions that need them).
"""

from __future__ import annotations

from tfreeze.graphview.stats import GraphStats, graph_stats, read_graph_def

__all__ = ["GraphStats", "graph_stats", "read_graph_def"]
