"""SQL templates rendered through dbt's macro context (the dbt extra): the first render (which
reads the manifest's macros and builds dbt's macro manifest), then each render, plain and with
a macro that asks the adapter for a relation's columns. Run it with dbt-core and dbt-duckdb
installed (the ``dbt`` tox env):

    python bench/make_warehouse.py --out /tmp/whbench --rows 1000 --models 2
    .tox/dbt/bin/python bench/template_macros.py --project /tmp/whbench \
        --manifest ../shared/corpus/dbt-artifacts/doriwilson__recce-super-demo/manifest.json

``--manifest`` is the manifest.json whose macros the templates use (a duckdb project's, with
dbt_utils, for the ``star`` line); without it the project's own target/manifest.json, which
has no macros of its own, gives only the plain lines. Times are wall-clock on whatever else
the machine is doing: compare within one run.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from recce_trio.core.artifacts.manifest import decode_manifest
from recce_trio.errors import TemplateError
from recce_trio.warehouse.connect import open_engine
from recce_trio.warehouse.context import RunContext
from recce_trio.warehouse.profiles import load_target


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def timed(ctx: RunContext, template: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        start = time.perf_counter()
        ctx.render(template, "current")
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=Path("/tmp/whbench"))
    parser.add_argument("--manifest", type=Path, default=None)
    parser.add_argument("--n", type=int, default=50)
    args = parser.parse_args()
    project: Path = args.project
    macros_from: Path = args.manifest or project / "target" / "manifest.json"

    start = time.perf_counter()
    engine = open_engine(load_target(project_dir=project), use_dbt=True)
    print(f"dbt adapter opened: {_ms(time.perf_counter() - start)}")
    try:
        ctx = RunContext(
            base=decode_manifest(
                (project / "target-base" / "manifest.json").read_bytes(), path="b"
            ),
            current=decode_manifest((project / "target" / "manifest.json").read_bytes(), path="c"),
            engine=engine,
        )
        ctx.macros = engine.macro_provider(
            {"base": macros_from, "current": macros_from}, ctx.cancel
        )
        start = time.perf_counter()
        ctx.render("select 1", "current")
        print(f"first render ({macros_from.name}, its macros read and built): "
              f"{_ms(time.perf_counter() - start)}")  # fmt: skip
        lines = {
            "plain template": "select * from {{ ref('big') }}",
            "dbt.type_string()": "select cast(1 as {{ dbt.type_string() }})",
            "dbt_utils.star (a statement for the columns)": (
                "select {{ dbt_utils.star(ref('wide')) }} from {{ ref('wide') }}"
            ),
        }
        for label, template in lines.items():
            try:
                times = timed(ctx, template, args.n)
            except TemplateError as e:
                print(f"{label}: not available ({e.message})")
                continue
            print(f"{label}: median {_ms(statistics.median(times))}, max {_ms(max(times))}"
                  f" (n={args.n})")  # fmt: skip
        native = RunContext(base=ctx.base, current=ctx.current, engine=engine)
        times = timed(native, "select * from {{ ref('big') }}", args.n)
        print(f"the same plain template without dbt's context: median "
              f"{_ms(statistics.median(times))}")  # fmt: skip
    finally:
        engine.close()


if __name__ == "__main__":
    main()
