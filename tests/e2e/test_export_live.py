"""GET /api/runs/{id}/export through a real Hypercorn on 127.0.0.1:0 and a real HTTP client,
on the demo's DuckDB (a profile with one thread, so a statement left running would block the
next run): the files of each run type and format, the errors, the limit of two exports at
once, and a client that goes away mid-export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
import trio
from hypercorn.config import Config
from hypercorn.trio import serve

from recce_trio.config import ServerConfig
from recce_trio.demo.build_db import build
from recce_trio.server.app import create_app

DEMO = Path(__file__).resolve().parents[2] / "recce_trio" / "demo"
CUSTOMERS = "select customer_id, first_name, lifetime_value from {{ ref('customers') }} order by 1"
# Wide rows: a client that reads nothing holds such an export open (the socket buffers fill).
WIDE = "select range as n, repeat('x', 300) as pad from range(100000)"
ENDLESS = "select count(*) from range(1000000000) a, range(1000) b where a.range <> b.range"
XLSX_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    project = tmp_path / "project"
    for env in ("target", "target-base"):
        (project / env).mkdir(parents=True)
        for name in ("manifest.json", "catalog.json"):
            (project / env / name).write_bytes((DEMO / env / name).read_bytes())
    build(tmp_path / "shop.duckdb")
    (project / "dbt_project.yml").write_text("name: oracle_shop\nprofile: shop\n")
    (project / "profiles.yml").write_text(
        "shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'shop.duckdb'}\n      threads: 1\n"
    )
    return project


@pytest.fixture
async def client(project: Path, nursery: trio.Nursery) -> AsyncIterator[httpx.AsyncClient]:
    config = Config.from_mapping(
        bind=["127.0.0.1:0"], accesslog=None, errorlog=None, graceful_timeout=1
    )
    stop = trio.Event()
    app = create_app(ServerConfig(project_dir=project, watch=False))
    binds = await nursery.start(partial(serve, app, config, shutdown_trigger=stop.wait))
    async with httpx.AsyncClient(base_url=binds[0], timeout=60) as http:
        yield http
    stop.set()


async def run(client: httpx.AsyncClient, run_type: str, **params: Any) -> dict[str, Any]:
    answer = await client.post("/api/runs", json={"type": run_type, "params": params})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["status"] == "Finished", body["error"]
    return body


def rows_of(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


async def test_a_query_run_exports_as_csv_with_recces_name_and_type(
    client: httpx.AsyncClient,
) -> None:
    query = await run(client, "query", sql_template=CUSTOMERS)
    answer = await client.get(f"/api/runs/{query['run_id']}/export?format=csv")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    today = dt.date.today().isoformat()
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="query-export-{today}.csv"'
    )
    assert answer.content.endswith(b"\r\n")
    assert rows_of(answer.text) == [
        ["customer_id", "first_name", "lifetime_value"],
        ["1", "Michael", "35.0"],  # a double on this branch: its shortest exact text
        ["2", "Shawn", "21.5"],  # the current branch's new order
        ["3", "Kathleen", "20.0"],
        ["4", "Jimmy", "1.0"],
        ["5", "Katherine", "17.0"],
    ]
    # No format: CSV, as Recce's default.
    default = await client.get(f"/api/runs/{query['run_id']}/export")
    assert default.content == answer.content


async def test_query_base_reads_base_and_query_diff_puts_the_sides_side_by_side(
    client: httpx.AsyncClient,
) -> None:
    base = await run(client, "query_base", sql_template=CUSTOMERS)
    answer = await client.get(f"/api/runs/{base['run_id']}/export?format=tsv")
    assert answer.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
    # Before the new order; a DECIMAL(38, 2) on the base branch: its exact text.
    assert rows_of(answer.text, "\t")[1:3] == [["1", "Michael", "35.00"], ["2", "Shawn", "9.00"]]

    diff = await run(
        client,
        "query_diff",
        sql_template="select order_id, status from {{ ref('orders') }} order by 1",
    )
    answer = await client.get(f"/api/runs/{diff['run_id']}/export?format=csv")
    assert answer.status_code == 200, answer.text
    assert "query-diff-export-" in answer.headers["content-disposition"]
    rows = rows_of(answer.text)
    assert rows[0] == ["base__order_id", "base__status", "current__order_id", "current__status"]
    assert len(rows) == 1 + 7  # base has 6 orders, current 7: the last line's base is empty
    assert rows[1] == ["1", "returned", "1", "returned"]
    assert rows[7] == ["", "", "7", "placed"]


async def test_a_preview_diff_exports_the_model_as_it_is_in_the_current_environment(
    client: httpx.AsyncClient,
) -> None:
    # current_model: the editor's SQL against the model as it is now, not the base branch.
    diff = await run(
        client,
        "query_diff",
        sql_template="select order_id from {{ ref('orders') }} where order_id > 5 order by 1",
        current_model="orders",
    )
    answer = await client.get(f"/api/runs/{diff['run_id']}/export?format=csv")
    rows = rows_of(answer.text)
    assert rows[0][0] == "base__order_id" and rows[0][-1] == "current__order_id"
    assert len(rows) == 1 + 7  # the whole current model: 7 orders (base has 6)
    assert rows[1][-1] == "6" and rows[2][-1] == "7" and rows[3][-1] == ""


async def test_an_xlsx_export_has_typed_cells(client: httpx.AsyncClient) -> None:
    query = await run(
        client,
        "query",
        sql_template="select order_id, order_date, status from {{ ref('orders') }} order by 1",
    )
    answer = await client.get(f"/api/runs/{query['run_id']}/export?format=xlsx")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert answer.headers["content-disposition"].endswith('.xlsx"')
    sheet = ElementTree.fromstring(
        zipfile.ZipFile(io.BytesIO(answer.content)).read("xl/worksheets/sheet1.xml")
    )
    rows = sheet.findall(".//m:sheetData/m:row", XLSX_NS)
    assert len(rows) == 1 + 7
    header = [c.findtext(".//m:t", namespaces=XLSX_NS) for c in rows[0]]
    assert header == ["order_id", "order_date", "status"]
    first = rows[1].findall("m:c", XLSX_NS)
    assert first[0].findtext("m:v", namespaces=XLSX_NS) == "1"  # a number
    assert first[1].findtext("m:v", namespaces=XLSX_NS) == "45292"  # 2024-01-01, a date
    assert first[2].findtext(".//m:t", namespaces=XLSX_NS) == "returned"


async def test_what_cannot_be_exported_is_refused_with_the_reason(
    client: httpx.AsyncClient,
) -> None:
    unknown = await client.get("/api/runs/6f1c1d7e-1a2b-4c3d-8e9f-000000000000/export")
    assert unknown.status_code == 404
    assert await_detail(unknown).startswith("Run ID '6f1c1d7e-")
    assert (await client.get("/api/runs/not-a-uuid/export")).status_code == 422

    query = await run(client, "query", sql_template=CUSTOMERS)
    bad_format = await client.get(f"/api/runs/{query['run_id']}/export?format=parquet")
    assert bad_format.status_code == 400
    assert await_detail(bad_format) == (
        "Unsupported format: 'parquet'. Use one of: csv, tsv, xlsx."
    )

    counts = await run(client, "row_count_diff", node_names=["orders"])
    refused = await client.get(f"/api/runs/{counts['run_id']}/export")
    assert refused.status_code == 400
    assert "only query, query_base and query_diff runs" in await_detail(refused)

    keyed = await run(
        client,
        "query_diff",
        sql_template="select customer_id, lifetime_value from {{ ref('customers') }}",
        primary_keys=["customer_id"],
    )
    refused = await client.get(f"/api/runs/{keyed['run_id']}/export")
    assert refused.status_code == 400
    assert "with primary_keys cannot be exported" in await_detail(refused)

    big = await run(client, "query", sql_template="select * from range(600000)")
    refused = await client.get(f"/api/runs/{big['run_id']}/export")
    assert refused.status_code == 400
    assert "600,000 rows, more than the 500,000" in await_detail(refused)
    mid = await run(client, "query", sql_template="select * from range(150000)")
    refused = await client.get(f"/api/runs/{mid['run_id']}/export?format=xlsx")
    assert refused.status_code == 400
    assert "Export it as CSV or TSV" in await_detail(refused)


async def test_a_warehouse_error_is_a_502_with_the_warehouses_message(
    client: httpx.AsyncClient,
) -> None:
    # The SQL ran as a run once; the warehouse now refuses it (here: it never could).
    status, created = await post_run(client, "query", "select * from no_such_table")
    assert status == 201 and created["status"] == "Failed"
    answer = await client.get(f"/api/runs/{created['run_id']}/export")
    assert answer.status_code == 502
    detail = await_detail(answer)
    assert detail.startswith("Export query failed: ") and "no_such_table" in detail
    assert "/" not in detail.split("no_such_table")[0]  # no path of the server's


async def test_a_third_export_at_once_gets_429_and_a_client_going_away_frees_its_slot(
    client: httpx.AsyncClient,
) -> None:
    wide = await run(client, "query", sql_template=WIDE)
    url = f"/api/runs/{wide['run_id']}/export?format=csv"
    async with client.stream("GET", url) as first, client.stream("GET", url) as second:
        assert first.status_code == 200 and second.status_code == 200
        third = await client.get(url)
        assert third.status_code == 429
        assert "2 exports are running" in await_detail(third)
    # Both clients went away part way: their exports stop and give their slots back.
    with trio.fail_after(30):
        # The server frees a slot when it sees the connection closed: ask until it has.
        while (answer := await client.get(url)).status_code == 429:  # noqa: ASYNC110
            await trio.sleep(0.05)
    assert answer.status_code == 200
    lines = answer.text.split("\r\n")
    assert lines[0] == "n,pad" and lines[-2].startswith("99999,") and lines[-1] == ""
    # The profile has one thread: a statement still running would hold the next run.
    await run(client, "query", sql_template=CUSTOMERS)


async def test_a_head_request_answers_the_headers_and_runs_nothing(
    client: httpx.AsyncClient,
) -> None:
    # Link checkers and prefetchers send HEAD: none of them may start a 500,000-row query.
    endless = await client.post(
        "/api/runs", json={"type": "query", "params": {"sql_template": ENDLESS}, "nowait": True}
    )
    run_id = endless.json()["run_id"]
    await client.post(f"/api/runs/{run_id}/cancel")
    url = f"/api/runs/{run_id}/export?format=tsv"
    with trio.fail_after(20):  # an export of the endless query would never answer
        for _ in range(3):  # more than the two exports that may run at once
            head = await client.head(url)
            assert head.status_code == 200
            assert head.headers["content-type"] == "text/tab-separated-values; charset=utf-8"
            assert head.headers["content-disposition"].startswith('attachment; filename="query-')
            assert head.content == b""
    # Still refused the same way as GET where the run cannot be exported.
    assert (await client.head(f"/api/runs/{run_id}/export?format=pdf")).status_code == 400
    # The one warehouse thread is free: nothing was left running.
    await run(client, "query", sql_template=CUSTOMERS)


async def test_a_client_gone_during_the_statement_interrupts_it(
    client: httpx.AsyncClient,
) -> None:
    status, created = await post_run(client, "query", ENDLESS, nowait=True)
    assert status == 201
    await client.post(f"/api/runs/{created['run_id']}/cancel")
    url = f"/api/runs/{created['run_id']}/export"
    with pytest.raises(httpx.ReadTimeout):
        await client.get(url, timeout=httpx.Timeout(60, read=0.5))
    # The endless statement was interrupted: the warehouse's one thread runs the next run.
    with trio.fail_after(30):
        done = await run(client, "query", sql_template=CUSTOMERS)
    assert done["result"]["data"][0][0] == 1


async def post_run(
    client: httpx.AsyncClient, run_type: str, sql: str, *, nowait: bool = False
) -> tuple[int, dict[str, Any]]:
    answer = await client.post(
        "/api/runs", json={"type": run_type, "params": {"sql_template": sql}, "nowait": nowait}
    )
    return answer.status_code, answer.json()


def await_detail(answer: httpx.Response) -> str:
    detail = answer.json()["detail"]
    assert isinstance(detail, str)
    assert not re.search(r"/(tmp|home|root|work)/", detail)
    return detail
