"""Command-line hook: ``kling-studio simulator`` runs the simulator in the foreground."""

from __future__ import annotations

import argparse
import signal
import threading

from .context import DEFAULT_API_KEY
from .faults import FaultConfig
from .progress import CURVES
from .render import BITRATES
from .server import HOST, Simulator
from .state import RESULT_SHAPES


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument(
        "--host", default=HOST, choices=[HOST], help="always 127.0.0.1: not reachable from outside"
    )
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        help="multiplies every simulated duration (0.05: a 45 s task takes about 2 s)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="fault rules like '5xx=0.2' or 'drop=0.3@create'; repeatable",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for timings and faults")
    parser.add_argument("--result-shape", default="objects", choices=RESULT_SHAPES)
    parser.add_argument(
        "--progress",
        default="even",
        choices=list(CURVES),
        help="how tasks progress and how long they take against their estimate (default: even)",
    )
    parser.add_argument(
        "--balance", type=float, default=None, help="credits available (default: unlimited)"
    )
    parser.add_argument(
        "--upload-ttl",
        type=float,
        default=None,
        help="seconds an uploaded picture's link lives (default: as result links)",
    )
    parser.add_argument(
        "--bitrate",
        default="small",
        choices=BITRATES,
        help="small: tiny fast clips (default); realistic: the asked resolution at 24 fps and a "
        "real clip's bit rate (10 s of 1080p is over 10 MB)",
    )
    parser.add_argument("--data-dir", default=None, help="keep uploads and videos here")


def run(args: argparse.Namespace) -> int:
    try:
        faults = FaultConfig.parse(",".join(args.fault))
    except ValueError as exc:
        print(f"error: {exc}")
        return 2
    sim = Simulator(
        args.port,
        time_scale=args.time_scale,
        faults=faults,
        seed=args.seed,
        result_shape=args.result_shape,
        progress=args.progress,
        balance=args.balance,
        upload_ttl=args.upload_ttl,
        data_dir=args.data_dir,
        bitrate=args.bitrate,
    )
    done = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    with sim:
        print(f"Simulator running at {sim.base_url}", flush=True)
        print(f"API key: {DEFAULT_API_KEY}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        try:
            while not done.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("Simulator stopped.", flush=True)
    return 0
