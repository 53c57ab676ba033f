"""The demo's warehouse: a small DuckDB (``shop.duckdb``) holding both environments of the demo
artifacts, built from plain SQL (the seeds and the models of the demo shop).

The base environment lives in schemas ``base`` and ``base_snapshots``, the current one in
``main`` and ``snapshots``, as the demo manifests' relation names say. The current branch
changes what the demo's lineage shows: ``orders.amount`` becomes a double and gains
``is_returned``, ``customer_segments`` is new, ``payment_methods`` is gone, and its seeds hold
one more order (so row counts, values, profiles, top-k and histograms differ).

Built at first use into the user's cache folder (``$XDG_CACHE_HOME/recce-trio`` or
``~/.cache/recce-trio``), in a folder named after this script's content and the DuckDB version,
so a new release or DuckDB rebuilds it; a few milliseconds of SQL. Run it by hand with
``python -m recce_trio.demo.build_db [FILE]``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

DB_NAME = "shop.duckdb"  # DuckDB names the catalog after the file: "shop", as the manifests say

SEEDS = """
CREATE TABLE {s}.country_codes (country_code VARCHAR, country_name VARCHAR);
INSERT INTO {s}.country_codes VALUES
  ('US', 'United States'), ('GB', 'United Kingdom'), ('DE', 'Germany'), ('FR', 'France');
CREATE TABLE {s}.raw_customers (id INTEGER, first_name VARCHAR, last_name VARCHAR,
  country_code VARCHAR);
INSERT INTO {s}.raw_customers VALUES
  (1, 'Michael', 'P.', 'US'), (2, 'Shawn', 'M.', 'US'), (3, 'Kathleen', 'P.', 'GB'),
  (4, 'Jimmy', 'C.', 'DE'), (5, 'Katherine', 'R.', 'FR');
CREATE TABLE {s}.raw_orders (id INTEGER, user_id INTEGER, order_date DATE, status VARCHAR);
INSERT INTO {s}.raw_orders VALUES
  (1, 1, '2024-01-01', 'returned'), (2, 3, '2024-01-02', 'completed'),
  (3, 4, '2024-01-04', 'completed'), (4, 1, '2024-01-05', 'shipped'),
  (5, 5, '2024-01-07', 'placed'), (6, 2, '2024-01-09', 'completed');
CREATE TABLE {s}.raw_payments (id INTEGER, order_id INTEGER, payment_method VARCHAR,
  amount INTEGER);
INSERT INTO {s}.raw_payments VALUES
  (1, 1, 'credit_card', 1000), (2, 2, 'credit_card', 2000), (3, 3, 'coupon', 100),
  (4, 4, 'bank_transfer', 2500), (5, 5, 'credit_card', 1700), (6, 6, 'gift_card', 600),
  (7, 6, 'coupon', 300);
CREATE TABLE {s}.raw_events (event_id INTEGER, customer_id INTEGER, event_type VARCHAR);
INSERT INTO {s}.raw_events VALUES
  (1, 1, 'signup'), (2, 1, 'view'), (3, 2, 'signup'), (4, 3, 'view'), (5, 5, 'signup');
"""

# The current branch's seeds: one more order, paid by card.
CURRENT_SEEDS = """
INSERT INTO {s}.raw_orders VALUES (7, 2, '2024-01-10', 'placed');
INSERT INTO {s}.raw_payments VALUES (8, 7, 'credit_card', 1250);
"""

STAGING = """
CREATE VIEW {s}.stg_customers AS
  SELECT id AS customer_id, first_name, last_name, country_code FROM {s}.raw_customers;
CREATE VIEW {s}.stg_orders AS
  SELECT id AS order_id, user_id AS customer_id, order_date, status FROM {s}.raw_orders;
CREATE VIEW {s}.stg_payments AS
  SELECT id AS payment_id, order_id, payment_method, (amount / 100)::DECIMAL(16, 2) AS amount
  FROM {s}.raw_payments;
CREATE VIEW {s}.stg_events AS SELECT event_id, customer_id, event_type FROM {s}.raw_events;
CREATE TABLE {s}.dim_customers AS
  SELECT customer_id, first_name, country_code FROM {s}.stg_customers;
CREATE TABLE {s}.daily_orders AS
  SELECT order_date AS date_day, count(*) AS orders FROM {s}.stg_orders GROUP BY 1 ORDER BY 1;
CREATE TABLE {s}.pkg_calendar AS
  SELECT (DATE '2024-01-01' + range::INTEGER) AS date_day FROM range(14);
CREATE TABLE {s}.pkg_weekdays AS
  SELECT date_day, dayname(date_day) AS weekday FROM {s}.pkg_calendar;
CREATE TABLE {snap}.customers_snapshot AS
  SELECT customer_id, first_name, last_name, country_code,
    md5(customer_id::VARCHAR) AS dbt_scd_id,
    TIMESTAMP '2024-01-01 00:00:00' AS dbt_updated_at,
    TIMESTAMP '2024-01-01 00:00:00' AS dbt_valid_from,
    NULL::TIMESTAMP AS dbt_valid_to
  FROM {s}.stg_customers;
"""

PAYMENTS = """(SELECT order_id, sum(amount) AS amount, count(*) AS payment_count
  FROM {s}.stg_payments GROUP BY 1)"""

BASE_MODELS = f"""
CREATE TABLE {{s}}.orders AS
  SELECT o.order_id, o.customer_id, o.order_date, o.status,
    coalesce(p.amount, 0)::DECIMAL(38, 2) AS amount,
    coalesce(p.payment_count, 0) AS payment_count
  FROM {{s}}.stg_orders AS o LEFT JOIN {PAYMENTS} AS p USING (order_id) ORDER BY 1;
CREATE TABLE {{s}}.customers AS
  SELECT c.customer_id, c.first_name, c.last_name, count(o.order_id) AS order_count,
    coalesce(sum(o.amount), 0)::DECIMAL(38, 2) AS lifetime_value
  FROM {{s}}.stg_customers AS c LEFT JOIN {{s}}.orders AS o USING (customer_id)
  GROUP BY 1, 2, 3 ORDER BY 1;
CREATE TABLE {{s}}.order_revenue AS
  SELECT order_date, sum(amount)::DECIMAL(38, 2) AS revenue, count(*) AS order_count
  FROM {{s}}.orders GROUP BY 1 ORDER BY 1;
CREATE TABLE {{s}}.payment_methods AS
  SELECT payment_method, sum(amount)::DECIMAL(16, 2) AS total_amount
  FROM {{s}}.stg_payments GROUP BY 1 ORDER BY 1;
"""

CURRENT_MODELS = f"""
CREATE TABLE {{s}}.orders AS
  SELECT o.order_id, o.customer_id, o.order_date, o.status,
    coalesce(p.amount, 0)::DOUBLE AS amount,
    coalesce(p.payment_count, 0) AS payment_count,
    o.status = 'returned' AS is_returned
  FROM {{s}}.stg_orders AS o LEFT JOIN {PAYMENTS} AS p USING (order_id) ORDER BY 1;
CREATE TABLE {{s}}.customers AS
  SELECT c.customer_id, c.first_name, c.last_name, count(o.order_id) AS order_count,
    coalesce(sum(o.amount), 0)::DOUBLE AS lifetime_value
  FROM {{s}}.stg_customers AS c LEFT JOIN {{s}}.orders AS o USING (customer_id)
  GROUP BY 1, 2, 3 ORDER BY 1;
CREATE TABLE {{s}}.customer_segments AS
  SELECT customer_id, lifetime_value,
    CASE WHEN lifetime_value >= 25 THEN 'high' ELSE 'standard' END AS segment
  FROM {{s}}.customers ORDER BY 1;
CREATE TABLE {{s}}.order_revenue AS
  SELECT order_date, sum(amount)::DOUBLE AS revenue, count(*) AS order_count
  FROM {{s}}.orders GROUP BY 1 ORDER BY 1;
"""


def statements() -> list[str]:
    """Every statement that builds the database, base first."""
    script = ["CREATE SCHEMA base", "CREATE SCHEMA base_snapshots", "CREATE SCHEMA snapshots"]
    for schema, snap, extra, models in (
        ("base", "base_snapshots", "", BASE_MODELS),
        ("main", "snapshots", CURRENT_SEEDS, CURRENT_MODELS),
    ):
        text = SEEDS + extra + STAGING + models
        for part in text.format(s=schema, snap=snap).split(";"):
            if part.strip():
                script.append(part.strip())
    return script


def build(path: Path) -> None:
    """Write the database to ``path`` (which must not exist)."""
    import duckdb

    con = duckdb.connect(str(path))
    try:
        for statement in statements():
            con.execute(statement)
        con.execute("CHECKPOINT")
    finally:
        con.close()


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "recce-trio"


def demo_db_path(cache: Path | None = None) -> Path:
    """Where the demo database of this script and this DuckDB is (built or not)."""
    from importlib.metadata import version

    digest = hashlib.sha256(Path(__file__).read_bytes() + version("duckdb").encode())
    return (cache or cache_dir()) / f"demo-{digest.hexdigest()[:12]}" / DB_NAME


def ensure_demo_db(cache: Path | None = None) -> Path:
    """The demo database, built on first use (atomically: a half-built one is never used)."""
    path = demo_db_path(cache)
    folder = path.parent
    if path.is_file():
        return path
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".demo-", dir=folder.parent))
    try:
        build(work / DB_NAME)
        try:
            work.rename(folder)
        except OSError:  # another process built it meanwhile
            if not path.is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


if __name__ == "__main__":
    if len(sys.argv) > 1:
        build(Path(sys.argv[1]))
        print(sys.argv[1])
    else:
        print(ensure_demo_db())
