"""Oracle cases 8-14: nodes added and removed (a model, seeds, a source table, an
exposure), and changed macros, of the project and of a local package."""

from __future__ import annotations

from tests.oracle.edits import Case, Delete, Replace, Write

CASES: tuple[Case, ...] = (
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
)
