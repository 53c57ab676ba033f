"""The generator behind bench/make_artifacts.py, in parts.

- ``vocab``: the project's words (systems, entities, column attributes) and dbt's fixed shapes
  (config keys, a column's and a test's config, the catalog's stats), with the small builders
  of node fields every part uses;
- ``shape``: ``Model`` and ``ProjectShape``, the project drawn from the seed (the DAG, each
  model's columns and tests, and what current changes);
- ``sql``: each model's raw_code and compiled_code in either environment;
- ``nodes``: a model's and a generic test's manifest node;
- ``project``: ``Project``, the rest of the nodes (seeds, sources, exposures, disabled tests);
- ``macro_sql`` and ``macros``: the ~600 adapter, package and project macros;
- ``artifacts``: manifest.json and catalog.json of one environment, written as dbt writes them.

bench/make_artifacts.py puts bench/ on ``sys.path`` and imports this package, whether it runs
as a script or is loaded by file path (tests/conftest.py ``load_bench_module``).
"""
