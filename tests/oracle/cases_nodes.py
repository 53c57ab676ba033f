"""Oracle cases 1-7: no change, then one kind of change to existing nodes each: SQL,
config, descriptions (persisted or not), an enforced contract, the relation (alias, schema)."""

from __future__ import annotations

from tests.oracle.edits import Case, Replace

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
)
