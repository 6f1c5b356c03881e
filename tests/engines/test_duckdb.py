"""DuckDB engine helpers: memory sizes as DuckDB prints them, and the room made for a
result Python fills (the limit lowered while it is filled, restored after)."""

from __future__ import annotations

import duckdb
import pytest

from crmlab.engines import duckdb as duck


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("953.6 MiB", int(953.6 * 2**20)),
        ("1GB", 10**9),
        ("18.8 GiB", int(18.8 * 2**30)),
        ("134217728B", 134_217_728),
        ("0 bytes", 0),
        ("2 KiB", 2048),
    ],
)
def test_sizes_read_as_duckdb_prints_them(text, expected):
    assert duck.size_in_bytes(text) == expected


def test_a_size_that_is_not_one_is_an_error():
    with pytest.raises(ValueError, match="not a memory size"):
        duck.size_in_bytes("lots")


def _limit(con) -> int:
    return duck.size_in_bytes(con.execute("SELECT current_setting('memory_limit')").fetchone()[0])


def test_room_lowers_the_limit_while_filling_and_restores_it():
    # DuckDB prints the limit cut to 0.1 of its unit: compare to 0.1 GiB (MiB)
    con = duck.connect(memory_limit="2GB")
    engine = duck._limited(duck.DuckDBEngine(con, "SELECT 1 AS x", "test"), {"memory_limit": "2GB"})
    assert engine.memory_limit == 2 * 10**9
    with engine.room(500 * 2**20):
        assert abs(_limit(con) - (2 * 10**9 - 500 * 2**20)) < 0.11 * 2**30
    assert abs(_limit(con) - 2 * 10**9) < 0.11 * 2**30
    with engine.room(10 * 2**30):  # never below the floor
        assert abs(_limit(con) - duck.FLOOR) < 0.11 * 2**20
    assert abs(_limit(con) - 2 * 10**9) < 0.11 * 2**30
    engine.close()
    # without a limit from crmlab: DuckDB's default, lowered and put back
    con = duck.connect()
    engine = duck.DuckDBEngine(con, "SELECT 1 AS x", "test")
    before = _limit(con)
    with engine.room(2**30):
        assert _limit(con) < before - 0.9 * 2**30
    assert abs(_limit(con) - before) < 0.11 * 2**30
    engine.close()


def test_room_restores_the_limit_after_an_error_and_spares_a_users_connection():
    con = duck.connect(memory_limit="1GB")
    engine = duck._limited(duck.DuckDBEngine(con, "SELECT 1 AS x", "test"), {"memory_limit": "1GB"})
    before = _limit(con)
    with pytest.raises(RuntimeError), engine.room(300 * 2**20):
        raise RuntimeError("fill failed")
    assert abs(_limit(con) - before) < 0.11 * 2**20
    engine.close()
    mine = duckdb.connect(config={"memory_limit": "1GB"})
    relation = mine.sql("SELECT 1 AS x")
    theirs = duck.from_relation(relation)
    user_before = _limit(mine)
    with theirs.room(300 * 2**20):
        assert _limit(mine) == user_before
    mine.close()
