"""The options `kling-studio app` hands to the notebook's kernel, as environment variables (the
kernel is Voila's child process; its environment is the only channel with no code on the page)."""

from __future__ import annotations

from pathlib import Path

HISTORY_ENV = "KLING_STUDIO_APP_HISTORY"
SIMULATOR_ENV = "KLING_STUDIO_APP_SIMULATOR"  # "1": the built-in simulator, whatever the key
SHOW_ENV = "KLING_STUDIO_APP_SHOW"  # "mine", "everyone" or a user name
TIME_SCALE_ENV = "KLING_STUDIO_APP_TIME_SCALE"  # the simulator's speed

NOTEBOOK = Path(__file__).with_name("kling-studio.ipynb")
# A Jupyter data folder holding the page's Voila template (voila/templates/kling-studio).
DATA = Path(__file__).with_name("share")
TEMPLATE = "kling-studio"
