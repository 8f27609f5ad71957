"""Exporting models for serving, as `keras.export`: `ExportArchive` writes torch.export
programs (`.pt2`). `Model.export` (lamina.saving.export) writes one model as `.pt2` or ONNX.

>>> import lamina
>>> lamina.export.ExportArchive().variables
[]
"""

from ._archive import ExportArchive

__all__ = ["ExportArchive"]
