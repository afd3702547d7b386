"""Persistence: the SQLAlchemy models, engines and the Alembic migrations."""
