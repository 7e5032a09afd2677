"""Where videos and their posters live: one interface over a folder and an S3-compatible bucket
(obstore), content-addressed by SHA-256. The history, the runner and the player use it."""

from ._location import VIDEOS_ENV, StoreLocation, parse_location
from ._objects import PutOutcome, VideoStore, open_store

__all__ = [
    "VIDEOS_ENV",
    "PutOutcome",
    "StoreLocation",
    "VideoStore",
    "open_store",
    "parse_location",
]
