"""Alembic migrations of the state DB, run by ``costloop.state.StateDB.migrate``."""
