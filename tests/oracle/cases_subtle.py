"""Oracle cases 15-19: where dbt's answer surprises (whitespace and comments, access and
tags, a disabled model, a folder-level config), and ``mixed``, the demo's change."""

from __future__ import annotations

from tests.oracle.edits import Case, Delete, Replace, Write

CASES: tuple[Case, ...] = (
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
