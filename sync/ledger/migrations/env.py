"""Alembic environment: runs migrations on the connection ``sync.ledger.store.migrate`` hands over."""

from alembic import context

from sync.ledger.search import modelled
from sync.ledger.store import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=modelled,
)
with context.begin_transaction():
    context.run_migrations()
