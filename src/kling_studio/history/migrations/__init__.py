"""Alembic migrations of the history's schema, run on connect (see `.._engine.migrate`)."""
