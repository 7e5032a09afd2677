"""The runner: many tasks in flight on one event loop (`_runner`), the cards it shows of them
(`_cards`), the history writes it holds while the history is busy (`_journal`), and what a
failed create proves (`_outcomes`)."""

from ._cards import card_from_record
from ._runner import Runner, request_from_record

__all__ = ["Runner", "card_from_record", "request_from_record"]
