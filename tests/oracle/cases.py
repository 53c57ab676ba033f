"""Change cases for the dbt oracle, and the battery of selectors asked of ``dbt ls`` in each.

Every case starts from the base project in ``tests/oracle/project`` and applies a few file edits
to a copy of it. The base project is built once; each case's copy is built as "current", and
``dbt ls --state <base target>`` is asked every selector of ``SELECTORS``.

Edits are data, not code: ``Replace`` (an exact substring that must occur exactly once),
``Write`` (create or overwrite a file) and ``Delete``. Paths are relative to the project folder.

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
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Replace:
    path: str
    old: str
    new: str


@dataclass(frozen=True)
class Write:
    path: str
    text: str


@dataclass(frozen=True)
class Delete:
    path: str


Edit = Replace | Write | Delete


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    edits: tuple[Edit, ...] = ()
    # Build the current environment (seed, run, snapshot, docs generate) so that catalog.json
    # exists. Every case does so here: the duckdb project builds in a few seconds.
    catalog: bool = True
    notes: str = ""
    extra_selectors: tuple[tuple[str | None, str | None], ...] = field(default=())


# (select, exclude) pairs asked in every case. ``None`` means the flag is not passed.
SELECTORS: tuple[tuple[str | None, str | None], ...] = (
    # state
    ("state:modified", None),
    ("state:modified.body", None),
    ("state:modified.configs", None),
    ("state:modified.relation", None),
    ("state:modified.persisted_descriptions", None),
    ("state:modified.contract", None),
    ("state:modified.macros", None),
    ("state:new", None),
    ("state:old", None),
    ("state:unmodified", None),
    ("state:modified+", None),
    ("+state:modified", None),
    ("1+state:modified+", None),
    ("1+state:modified+1", None),
    ("@state:modified", None),
    ("state:modified,resource_type:model", None),
    ("state:modified+", "state:modified"),
    ("state:modified+", "tag:nightly"),
    ("state:modified state:new", None),
    ("state:modified.body,state:modified.configs", None),
    # graph operators
    ("@stg_orders", None),
    ("2+customers", None),
    ("stg_orders+1", None),
    ("+daily_orders", "package:local_pkg"),
    ("+exposure:weekly_report", None),
    ("source:shop.orders+", None),
    # methods
    ("tag:nightly", None),
    ("tag:finance tag:staging", None),
    ("tag:staging,config.materialized:view", None),
    ("path:models/marts", None),
    ("path:models/staging/stg_orders.sql", None),
    ("file:stg_payments.sql", None),
    ("package:local_pkg", None),
    ("package:oracle_shop,resource_type:seed", None),
    ("config.materialized:table", None),
    ("config.materialized:incremental", None),
    ("resource_type:seed", None),
    ("resource_type:source", None),
    ("resource_type:exposure", None),
    ("resource_type:snapshot", None),
    ("resource_type:analysis", None),
    ("source:shop", None),
    ("source:events.legacy_events", None),
    ("exposure:*", None),
    ("exposure:churn_notebook", None),
    ("access:public", None),
    # fqn forms
    ("customers", None),
    ("stg_*", None),
    ("marts.core", None),
    ("staging.*", None),
    ("oracle_shop.staging.stg_orders", None),
    ("local_pkg.pkg_calendar", None),
    ("*", None),
    # exclude only, and nothing
    (None, "tag:staging"),
    ("tag:does_not_exist", None),
    ("no_such_model", None),
)


CASES: tuple[Case, ...] = (
    Case(
        name="unchanged",
        description="No edit: the same project built twice. Nothing is modified or new.",
    ),
    Case(
        name="model_sql",
        description="SQL change of one mart model (adds a column).",
        edits=(
            Replace(
                "models/marts/core/orders.sql",
                "    coalesce(p.payment_count, 0) as payment_count\n",
                "    coalesce(p.payment_count, 0) as payment_count,\n"
                "    o.status = 'returned' as is_returned\n",
            ),
        ),
    ),
    Case(
        name="config_materialized",
        description="Config-only change: stg_customers becomes a table through YAML config.",
        edits=(
            Replace(
                "models/staging/_staging.yml",
                "  - name: stg_customers\n    description: Customers, renamed.\n",
                "  - name: stg_customers\n    description: Customers, renamed.\n"
                "    config:\n      materialized: table\n",
            ),
        ),
    ),
    Case(
        name="description_persisted",
        description="Description change of a model with persist_docs (relation and columns).",
        edits=(
            Replace(
                "models/marts/core/_core.yml",
                "    description: One row per customer, with order totals.\n",
                "    description: One row per customer, with their order count and value.\n",
            ),
            Replace(
                "models/marts/core/_core.yml",
                "        description: Total paid by the customer, in dollars.\n",
                "        description: Total paid by the customer over all orders, in dollars.\n",
            ),
        ),
    ),
    Case(
        name="description_not_persisted",
        description="Description change of models without persist_docs.",
        notes="dbt: NOT state:modified (descriptions count only where persist_docs is on).",
        edits=(
            Replace(
                "models/marts/finance/_finance.yml",
                "    description: Revenue by payment method (docs not persisted).\n",
                "    description: Total revenue for each payment method.\n",
            ),
            Replace(
                "models/marts/finance/_finance.yml",
                "        description: How the customer paid.\n",
                "        description: How the customer paid (card, coupon, transfer).\n",
            ),
            Replace(
                "models/staging/_sources.yml",
                "        description: One row per customer.\n",
                "        description: One row per customer, as loaded.\n",
            ),
        ),
    ),
    Case(
        name="contract_change",
        description="Enforced contract of dim_customers: customer_id integer -> bigint "
        "(YAML data_type and the SQL cast).",
        notes="A breaking change of an unversioned public model: dbt only warns "
        "(UnversionedBreakingChange); .contract and .body.",
        edits=(
            Replace(
                "models/marts/core/dim_customers.sql",
                "customer_id::integer as customer_id",
                "customer_id::bigint as customer_id",
            ),
            Replace(
                "models/marts/core/_core.yml",
                "      - name: customer_id\n        data_type: integer\n",
                "      - name: customer_id\n        data_type: bigint\n",
            ),
        ),
    ),
    Case(
        name="relation_change",
        description="Alias of order_revenue and custom schema of payment_methods.",
        notes="alias in config() is .body and .relation; schema in YAML is .relation only; "
        "neither is .configs.",
        edits=(
            Replace(
                "models/marts/finance/order_revenue.sql",
                "{{ config(materialized='incremental', unique_key='order_date') }}",
                "{{ config(materialized='incremental', unique_key='order_date', "
                "alias='daily_revenue') }}",
            ),
            Replace(
                "models/marts/finance/_finance.yml",
                "  - name: payment_methods\n",
                "  - name: payment_methods\n    config:\n      schema: finance\n",
            ),
        ),
    ),
    Case(
        name="added_model",
        description="A new mart model downstream of stg_events and customers.",
        notes="the new model matches every state:modified sub-selector except .macros.",
        edits=(
            Write(
                "models/marts/core/customer_events.sql",
                "select c.customer_id, c.first_name, count(e.event_id) as event_count\n"
                "from {{ ref('customers') }} as c\n"
                "left join {{ ref('stg_events') }} as e on e.customer_id = c.customer_id\n"
                "group by 1, 2\n",
            ),
        ),
    ),
    Case(
        name="removed_model",
        description="stg_events (used by no model) and its YAML entry are deleted.",
        notes="dbt selects nothing: the removed model is not in the current manifest.",
        edits=(
            Delete("models/staging/stg_events.sql"),
            Replace(
                "models/staging/_staging.yml",
                "  - name: stg_events\n    description: Product events.\n",
                "",
            ),
        ),
    ),
    Case(
        name="seeds_added_removed",
        description="A seed is added (raw_promos), one removed (country_codes), and the rows "
        "of raw_payments change.",
        edits=(
            Write("seeds/raw_promos.csv", "code,percent_off\nWELCOME,10\nSPRING,15\n"),
            Delete("seeds/country_codes.csv"),
            Replace(
                "seeds/_seeds.yml",
                "  - name: country_codes\n    description: ISO country codes and names.\n",
                "",
            ),
            Replace("seeds/raw_payments.csv", "7,6,coupon,300\n", "7,6,coupon,350\n"),
        ),
    ),
    Case(
        name="removed_source",
        description="The unused source table events.legacy_events is deleted.",
        edits=(
            Replace(
                "models/staging/_sources.yml",
                "      - name: legacy_events\n        identifier: raw_events\n"
                "        description: The same table under an old name; used by nothing.\n",
                "",
            ),
        ),
    ),
    Case(
        name="removed_exposure",
        description="The exposure churn_notebook is deleted; weekly_report gets a new description.",
        notes="weekly_report's description change is state:modified but matches no sub-selector.",
        edits=(
            Replace(
                "models/exposures.yml",
                "  - name: churn_notebook\n    type: notebook\n    owner:\n"
                "      name: Data science\n    depends_on:\n      - ref('dim_customers')\n"
                "      - source('events', 'raw_events')\n",
                "",
            ),
            Replace(
                "models/exposures.yml",
                "    description: The finance team's weekly report.\n",
                "    description: The weekly report of the finance team.\n",
            ),
        ),
    ),
    Case(
        name="macro_change",
        description="The project macro cents_to_dollars changes (used by stg_payments and "
        "payment_methods); the macro order_statuses gains a status (used by order_revenue).",
        notes="payment_methods reaches cents_to_dollars only through dollars_sum: still .macros.",
        edits=(
            Replace(
                "macros/cents_to_dollars.sql",
                "    round(({{ column_name }} / 100)::numeric(16, {{ scale }}), {{ scale }})\n",
                "    round(({{ column_name }} / 100.0)::numeric(18, {{ scale }}), {{ scale }})\n",
            ),
            Replace(
                "macros/order_statuses.sql",
                "['placed', 'shipped', 'completed', 'returned']",
                "['placed', 'shipped', 'completed', 'returned', 'return_pending']",
            ),
        ),
    ),
    Case(
        name="package_change",
        description="Changes inside the local package: the calendar covers more days, and "
        "the package macro day_series changes.",
        edits=(
            Replace(
                "local_pkg/models/pkg_calendar.sql",
                "day_series('2024-01-01', 14)",
                "day_series('2024-01-01', 31)",
            ),
            Replace(
                "local_pkg/macros/day_series.sql",
                "    from range({{ days }}) as t(i)\n",
                "    from range(0, {{ days }}) as t(i)\n",
            ),
        ),
    ),
    Case(
        name="whitespace_comment",
        description="Whitespace-only change of stg_customers (indent, trailing blank line) "
        "and a SQL comment added to stg_orders.",
        notes="dbt compares raw_code exactly: both are state:modified.body.",
        edits=(
            Replace(
                "models/staging/stg_customers.sql",
                "    first_name,\n",
                "        first_name,\n",
            ),
            Replace(
                "models/staging/stg_customers.sql",
                "from {{ source('shop', 'customers') }}\n",
                "from {{ source('shop', 'customers') }}\n\n",
            ),
            Replace(
                "models/staging/stg_orders.sql",
                "select\n",
                "-- orders as loaded, one row per order\nselect\n",
            ),
        ),
    ),
    Case(
        name="access_tags",
        description="orders becomes access: public, and stg_payments gets an extra tag "
        "through YAML config.",
        notes="tags are not compared (CompareBehavior.Exclude): stg_payments is NOT "
        "modified; the access change of orders is .configs.",
        edits=(
            Replace(
                "models/marts/core/_core.yml",
                "  - name: orders\n    description: One row per order, with its payments.\n",
                "  - name: orders\n    description: One row per order, with its payments.\n"
                "    access: public\n",
            ),
            Replace(
                "models/staging/_staging.yml",
                "  - name: stg_payments\n    description: Payments in dollars.\n",
                "  - name: stg_payments\n    description: Payments in dollars.\n"
                "    config:\n      tags: ['pii']\n",
            ),
        ),
    ),
    Case(
        name="disabled_model",
        description="daily_orders is disabled through YAML config (it moves to the "
        "manifest's 'disabled' map).",
        notes="dbt selects nothing; the model is in the manifest's 'disabled' map.",
        edits=(
            Write(
                "models/marts/core/_disabled.yml",
                "version: 2\nmodels:\n  - name: daily_orders\n    config:\n      enabled: false\n",
            ),
        ),
    ),
    Case(
        name="project_config",
        description="A folder-level config in dbt_project.yml: models in marts/finance "
        "persist their relation docs.",
        edits=(
            Replace(
                "dbt_project.yml",
                '        +tags: ["finance"]\n',
                '        +tags: ["finance"]\n        +persist_docs:\n          relation: true\n',
            ),
        ),
    ),
    Case(
        name="mixed",
        description="The demo: orders gets a new column and amount changes type; a new "
        "model customer_segments; payment_methods is removed; the customers description "
        "changes (persisted); a seed's rows change.",
        edits=(
            Replace(
                "models/marts/core/orders.sql",
                "    coalesce(p.amount, 0) as amount,\n"
                "    coalesce(p.payment_count, 0) as payment_count\n",
                "    coalesce(p.amount, 0)::double as amount,\n"
                "    coalesce(p.payment_count, 0) as payment_count,\n"
                "    o.status = 'returned' as is_returned\n",
            ),
            Write(
                "models/marts/core/customer_segments.sql",
                "select\n"
                "    customer_id,\n"
                "    lifetime_value,\n"
                "    case\n"
                "        when lifetime_value >= 30 then 'gold'\n"
                "        when lifetime_value >= 10 then 'silver'\n"
                "        else 'bronze'\n"
                "    end as segment\n"
                "from {{ ref('customers') }}\n",
            ),
            Delete("models/marts/finance/payment_methods.sql"),
            Replace(
                "models/marts/finance/_finance.yml",
                "  - name: payment_methods\n"
                "    description: Revenue by payment method (docs not persisted).\n"
                "    columns:\n"
                "      - name: payment_method\n"
                "        description: How the customer paid.\n",
                "",
            ),
            Replace(
                "models/marts/core/_core.yml",
                "    description: One row per customer, with order totals.\n",
                "    description: One row per customer, with their order count and lifetime "
                "value.\n",
            ),
            Replace("seeds/raw_orders.csv", "5,5,2024-01-07,placed\n", "5,5,2024-01-07,shipped\n"),
        ),
    ),
)

CASES_BY_NAME = {case.name: case for case in CASES}
