"""The runner: many tasks in flight on one event loop. `Runner` (`_runner`) starts a task and
sends its create, follows it to a saved video (`_following`) and picks tasks up from the history
(`_resuming`); the cards it shows of them (`_cards`), the history writes it holds while the
history is busy (`_journal`), what a failed create proves (`_outcomes`), and a past task's
request to run again (`_remix`)."""

from ._cards import card_from_record
from ._remix import request_from_record
from ._runner import Runner

__all__ = ["Runner", "card_from_record", "request_from_record"]
