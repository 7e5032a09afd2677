"""The Jupyter studio: the anywidget, its message handlers, the comparison desk, the bundle."""

from ._snippets import Snippets, snippets
from ._widget import Studio

__all__ = ["Snippets", "Studio", "snippets"]
