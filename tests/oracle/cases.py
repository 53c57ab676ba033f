"""Change cases for the dbt oracle, and the battery of selectors asked of ``dbt ls`` in each.

Every case starts from the base project in ``tests/oracle/project`` and applies a few file edits
to a copy of it. The base project is built once; each case's copy is built as "current", and
``dbt ls --state <base target>`` is asked every selector of ``SELECTORS``. Edits
and cases are data (edits.py).

What dbt-core 1.11.16 answered (recorded in tests/fixtures/oracle; some of it is surprising):

- Descriptions count only where docs are persisted. ``description_not_persisted`` (a model
  and a source table) is not ``state:modified`` at all; ``description_persisted`` is, and
  of the sub-selectors only ``state:modified.persisted_descriptions`` matches it.
- Config comparison reads ``unrendered_config`` and skips the keys marked
  ``CompareBehavior.Exclude``: ``tags``, ``group``, ``alias``, ``schema``, ``database``. So a
  tag added through YAML config is NOT modified (``access_tags``: stg_payments), while an
  ``access`` change is ``state:modified.configs`` (orders).
- ``alias``/``schema``/``database`` are ``state:modified.relation`` only, never ``.configs``
  (``relation_change``); an alias set in the SQL's ``config()`` is also ``.body``, as the
  SQL changed.
- A folder-level config in dbt_project.yml reaches ``unrendered_config``, so it is
  ``state:modified.configs`` for every model of the folder (``project_config``).
- ``raw_code`` is compared byte for byte: whitespace only, or a SQL comment, is
  ``state:modified.body`` (``whitespace_comment``).
- ``state:modified.macros`` follows macro-to-macro calls: payment_methods calls
  ``dollars_sum``, which calls the changed ``cents_to_dollars`` (``macro_change``). A changed
  macro of the local package marks the package's model (``package_change``). Such models are
  not ``.body``.
- An added node (model or seed) matches ``state:new``, ``state:modified`` and every
  sub-selector except ``.macros``: each comparison against "no old node" fails
  (``added_model``, ``seeds_added_removed``).
- A seed whose rows change is ``state:modified.body``.
- A removed, or disabled, node is never selected: it is not in the current manifest, and its
  former neighbours are untouched (``removed_model``, ``removed_source``, ``removed_exposure``,
  ``disabled_model``; a disabled model moves to the manifest's ``disabled`` map).
- An exposure whose description changed is ``state:modified`` but matches none of the
  sub-selectors (``removed_exposure``: weekly_report).
- A type change in an enforced contract is ``.contract`` (and ``.body`` since the SQL cast
  changed); for an unversioned model dbt only warns (``UnversionedBreakingChange``), even
  with ``access: public`` (``contract_change``).
- The fqn method (a bare name, ``*``, ``marts.core``, ``staging.*``) never matches sources:
  ``*`` lists everything but sources (and analyses).
- ``dbt ls`` lists no analysis unless asked with ``--resource-type``: its default resource
  types leave ``analysis`` out, so ``resource_type:analysis`` answers nothing.
- ``dbt ls`` adds the tests attached to what it selects (eager indirect selection), unit tests
  included; the comparison drops every test on both sides.

The cases are in the order recorded: cases_nodes.py, cases_added_removed.py, cases_subtle.py
(their edits, edits.py); the selectors, selector_battery.py. record.py and test_live_oracle.py
load this file by path; it imports its parts as ``tests.oracle.*`` (the repository on
``sys.path``).
"""

from __future__ import annotations

from tests.oracle import cases_added_removed, cases_nodes, cases_subtle
from tests.oracle.edits import Case, Delete, Edit, Replace, Write
from tests.oracle.selector_battery import SELECTORS

__all__ = ["CASES", "CASES_BY_NAME", "SELECTORS", "Case", "Delete", "Edit", "Replace", "Write"]

CASES: tuple[Case, ...] = (*cases_nodes.CASES, *cases_added_removed.CASES, *cases_subtle.CASES)

CASES_BY_NAME = {case.name: case for case in CASES}
