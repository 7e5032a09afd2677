"""The history: tasks journalled before they are sent, their records, and the video cache."""

from ._records import TaskRecord
from ._store import History
from ._videos import VideoCache

__all__ = ["History", "TaskRecord", "VideoCache"]
