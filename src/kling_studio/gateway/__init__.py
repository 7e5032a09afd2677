"""The class gateway: FoxAPI's routes served to students, each with their own token, budget
and in-flight cap, forwarded upstream with the one key it holds; every task journalled in the
class history (student as author), followed to its end and its video saved there.

Replicas on one PostgreSQL behave as one: the gateway keeps no state outside the database
(budgets and the in-flight cap are checked in the journal's transaction, each task is
followed by the replica holding its lease, a dead replica's tasks are adopted).

Modules: the HTTP routes (_app), sending creates and following tasks as the runner does
(_forwarder), idempotency keys and students' views of tasks (_ledger), the requests'
connections to the class history (_pool), students and their tokens (_students), who is asking
(_identity; a JupyterHub token's user, asked of the hub: _hub), the flood guard (_flood),
FoxAPI's error envelope for the gateway's answers (_replies), `gateway serve` (_serve).
"""

from ._serve import ServeOptions, serve
from ._students import TOKEN_PREFIX, Students

__all__ = ["TOKEN_PREFIX", "ServeOptions", "Students", "serve"]
