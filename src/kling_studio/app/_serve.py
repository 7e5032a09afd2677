"""Voila serving the packaged notebook: sources stripped (no code cells on the page), on the
host and port asked for, one line on stdout once it takes requests."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from ._options import (
    DATA,
    HISTORY_ENV,
    NOTEBOOK,
    SHOW_ENV,
    SIMULATOR_ENV,
    TEMPLATE,
    TIME_SCALE_ENV,
)


def serve(
    *,
    host: str,
    port: int,
    history: str | None,
    simulator: bool,
    show: str,
    time_scale: float,
) -> int:
    """Runs until interrupted. `port` 0 takes a free one (the ready line says which)."""
    settings = {
        HISTORY_ENV: history or "",
        SIMULATOR_ENV: "1" if simulator else "",
        SHOW_ENV: show,
        TIME_SCALE_ENV: repr(time_scale),
    }
    # The kernel inherits Voila's environment: that is how the options reach the notebook.
    os.environ.update(settings)
    # Voila finds the page's template in the Jupyter data path.
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(DATA), os.environ.get("JUPYTER_PATH", "")) if p
    )
    app = _app_class()
    app.launch_instance(argv=_voila_argv(host, port))
    return 0


FRONT_END = (
    "@voila-dashboards/widgets-manager8",
    "@jupyter-widgets/jupyterlab-manager",
    "anywidget",
)


def _voila_argv(host: str, port: int) -> Sequence[str]:
    return [
        str(NOTEBOOK),
        f"--Voila.ip={host}",
        f"--port={port}",
        "--no-browser",
        "--strip_sources=True",
        "--show_tracebacks=False",
        "--Voila.port_retries=0",
        "--theme=light",
        f"--template={TEMPLATE}",
        # Only what the widget needs (Voila's widget manager, ipywidgets' base, anywidget):
        # Voila bundles an older JupyterLab core, and other installed extensions (Notebook 7's)
        # fail to load against it with errors in the console.
        *(f"--VoilaConfiguration.extension_allowlist={name}" for name in FRONT_END),
    ]


def _app_class() -> Any:
    import tornado.ioloop
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets
    from voila.app import Voila

    class StudioApp(Voila):  # type: ignore[misc]
        """Voila, listening on exactly the port asked for (0: a free one) and saying so."""

        name = "kling-studio-app"

        def listen(self) -> None:
            asked = int(self.port)  # type: ignore[has-type]
            try:
                sockets = bind_sockets(asked, self.ip)
            except OSError as exc:
                self.log.critical("cannot listen on %s:%s: %s", self.ip, asked, exc)
                self.exit(1)
            HTTPServer(self.app).add_sockets(sockets)
            port = int(sockets[0].getsockname()[1])
            self.port = port
            print(f"kling-studio app on http://{self.ip}:{port}/", flush=True)
            self.ioloop = tornado.ioloop.IOLoop.current()
            try:
                self.ioloop.start()
            except KeyboardInterrupt:
                self.log.info("Stopping...")
            finally:
                self.stop()

    return StudioApp
