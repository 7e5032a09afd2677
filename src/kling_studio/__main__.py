"""`python -m kling_studio` is the `kling-studio` command."""

import sys

from .cli import main

sys.exit(main())
