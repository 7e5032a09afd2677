"""``python -m kling_studio.simulator``: the same as ``kling-studio simulator``."""

import argparse
import sys

from .cli import configure_parser, run

parser = argparse.ArgumentParser(prog="python -m kling_studio.simulator")
configure_parser(parser)
sys.exit(run(parser.parse_args()))
