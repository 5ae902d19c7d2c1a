"""VOS Annotator: annotate, propagate and check video object segmentation data."""

__version__ = "0.1.0"
