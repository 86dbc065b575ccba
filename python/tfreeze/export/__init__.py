"""Exporting a frozen .pb for servers that take SavedModels only (TF Serving)."""

from __future__ import annotations

from tfreeze.export.saved_model import export_saved_model

__all__ = ["export_saved_model"]
