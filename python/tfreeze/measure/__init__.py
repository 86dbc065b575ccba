"""Prove and measure: parity (C++ vs Python's run of the same .pb vs the
source), latency loops, ``bench`` (against other runners), ``tune`` and cold
start. Each runner that needs TensorFlow's Python package imports it when called.

Imports the runtime and the freezer (to open a source for parity), never the
command line.
"""
