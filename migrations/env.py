"""Alembic environment.

The database comes, in this order, from: a Connection or an Engine handed over in
``config.attributes["connection"]`` (the app's migrate command, pytest-alembic), the
``sqlalchemy.url`` option, or ``models.database_url()`` (DATABASE_URL or the SQLite file in the
instance folder, exactly as the app resolves it).
"""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection, Engine

from models import Base, database_url

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


# Search structures a migration builds by hand, outside the models: SQLite's FTS5 table (and its
# shadow tables) and PostgreSQL's trigram indexes (revision 0007). Autogenerate leaves them alone.
_UNMODELLED_PREFIXES = ("transactions_fts",)
_UNMODELLED_INDEXES = {"ix_transactions_payee_trgm", "ix_transactions_description_trgm", "ix_payee_names_payee_trgm",
                       "ix_transactions_rest_trgm"}


def _include_object(obj, name, type_, reflected, compare_to) -> bool:
    if type_ == "table" and name and name.startswith(_UNMODELLED_PREFIXES):
        return False
    if type_ == "index" and name in _UNMODELLED_INDEXES:
        return False
    return True


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs go through table copies
        compare_type=True,
        compare_server_default=False,
        # The app's migrate command hands a progress callback over (each step, as it finishes).
        on_version_apply=config.attributes.get("on_version_apply") or (),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url") or database_url(),
                      target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def _run_on(engine: Engine) -> None:
    """SQLite: foreign keys off for the migration, as SQLite's own recipe for rebuilding a table says.
    A batch operation copies a table, drops the old one and renames the copy; with foreign keys on,
    that DROP would first run every ON DELETE action of the tables that refer to it (rebuilding
    ``transactions`` would delete every expense line). The pragma cannot change inside a transaction,
    so it is set before one starts; afterwards ``PRAGMA foreign_key_check`` must find nothing."""
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # ends SQLAlchemy's autobegun transaction (no BEGIN was sent for a pragma)
        try:
            with connection.begin():
                _configure(connection)
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                connection.commit()
                if broken:
                    raise RuntimeError(f"migration left rows that break foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.rollback()
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _configure(given)
        return
    if isinstance(given, Engine):
        _run_on(given)
        return
    url = config.get_main_option("sqlalchemy.url") or database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    _run_on(engine)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
