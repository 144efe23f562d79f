"""The metadata engine of the embedded default: a SAVEPOINT that starts a transaction takes SQLite's write
lock first, so a read-then-write nested transaction (how Airflow creates a backfill's runs) waits for a
concurrent writer instead of failing with "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ml_lifecycle.settings import create_metadata_engine


def _database(tmp_path: Path) -> str:
    path = tmp_path / "airflow.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("create table dag_run (id integer primary key, who text)")
    return str(path)


def _read_then_write_while_another_process_commits(engine, path: str) -> list[BaseException]:
    errors: list[BaseException] = []

    def other_writer() -> None:  # the scheduler, committing between our read and our write
        try:
            with sqlite3.connect(path, timeout=10) as other:
                other.execute("insert into dag_run (who) values ('scheduler')")
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    with Session(engine) as session:
        with session.begin_nested():
            session.execute(text("select count(*) from dag_run")).scalar()
            writer = threading.Thread(target=other_writer)
            writer.start()
            writer.join(timeout=1)  # with the write lock held it waits; without it, it commits now
            session.execute(text("insert into dag_run (who) values ('backfill')"))
        session.commit()
    writer.join(timeout=15)
    return errors


def test_a_nested_read_then_write_waits_for_the_other_writer_instead_of_failing(tmp_path):
    path = _database(tmp_path)
    engine = create_metadata_engine(f"sqlite:///{path}", engine_args={}, connect_args={"timeout": 10})
    assert _read_then_write_while_another_process_commits(engine, path) == []
    with sqlite3.connect(path) as db:
        assert sorted(who for (who,) in db.execute("select who from dag_run")) == ["backfill", "scheduler"]


def test_without_it_sqlite_refuses_the_write_at_once(tmp_path):
    path = _database(tmp_path)
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 10})
    with pytest.raises(OperationalError, match="database is locked"):
        _read_then_write_while_another_process_commits(engine, path)


def test_other_databases_get_airflows_engine_unchanged(tmp_path):
    engine = create_metadata_engine("postgresql+psycopg2://u@127.0.0.1:1/db", engine_args={"pool_size": 2},
                                    connect_args={})
    assert engine.dialect.name == "postgresql" and engine.pool.size() == 2
