"""HTTP to FoxAPI: the async and sync clients, retries, polling and the engine thread."""

from ._async import AsyncClient
from ._polling import PollPolicy
from ._sync import Client

__all__ = ["AsyncClient", "Client", "PollPolicy"]
