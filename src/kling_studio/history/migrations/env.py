"""Alembic's entry point: migrate the connection handed over by `_engine.migrate` (already in
the transaction that holds the migration lock), never one of its own."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()
