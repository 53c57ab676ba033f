"""The generated project's vocabulary and dbt's fixed shapes.

Names (package, database, each environment's target schema and clock), the source systems,
entities and mart domains models are named after, the column attributes with their types and
descriptions, the keys of a node's config, a generic test's config and the catalog's stats;
and the small builders of node fields (a column, a ref, a config, a hashed name) that the
node, macro and artifact builders share.
"""

from __future__ import annotations

import hashlib
from typing import Any

PKG, DB, DBT_VERSION = "acme", "analytics", "1.11.11"
TARGET = {"base": "analytics", "current": "dbt_ci"}  # target schema of each environment
CLOCK = {"base": 1767225600.0, "current": 1767312000.0}  # 2026-01-01 and a day later (UTC)
SYSTEMS = [
    "shopify",
    "stripe",
    "salesforce",
    "hubspot",
    "zendesk",
    "netsuite",
    "jira",
    "github",
    "segment",
    "google_ads",
    "facebook_ads",
    "intercom",
    "mailchimp",
    "quickbooks",
    "workday",
    "greenhouse",
    "marketo",
    "braze",
    "amplitude",
    "snowplow",
    "klaviyo",
    "twilio",
    "asana",
    "linear",
    "okta",
    "mixpanel",
    "recurly",
    "chargebee",
    "xero",
    "gorgias",
]
ENTITIES = [
    "order",
    "customer",
    "payment",
    "invoice",
    "subscription",
    "account",
    "contact",
    "lead",
    "opportunity",
    "ticket",
    "event",
    "session",
    "product",
    "refund",
    "charge",
    "campaign",
    "ad",
    "user",
    "employee",
    "issue",
    "project",
    "shipment",
    "return",
    "cart",
    "coupon",
    "plan",
    "transaction",
    "vendor",
    "bill",
    "message",
    "call",
    "email",
    "deal",
    "company",
    "line_item",
    "inventory_level",
    "fulfillment",
    "discount",
    "review",
    "survey_response",
]
DOMAINS = ["finance", "marketing", "product", "sales", "support", "ops"]
TYPES = {
    "ts": "timestamp without time zone",
    "int": "integer",
    "big": "bigint",
    "num": "numeric",
    "dbl": "double precision",
    "txt": "text",
    "vc": "character varying",
    "bool": "boolean",
    "date": "date",
}
RETYPE = {
    "integer": "bigint",
    "bigint": "numeric",
    "numeric": "double precision",
    "double precision": "numeric",
    "timestamp without time zone": "date",
    "date": "timestamp without time zone",
    "text": "character varying",
    "character varying": "text",
    "boolean": "integer",
}
# column | type | description; "status" carries the accepted_values tests.
ATTRS = [
    (n, TYPES[t], d)
    for n, t, d in (
        line.split("|")
        for line in """\
status|txt|Current lifecycle status of the record, as reported by the source system.
created_at|ts|Timestamp (UTC) at which the record was created in the source system.
updated_at|ts|Timestamp (UTC) at which the record was last modified in the source system.
amount|num|Gross amount in the record currency, before discounts, taxes and refunds.
amount_cents|big|Gross amount in minor currency units (cents), as delivered by the API.
currency_code|vc|Three-letter ISO 4217 code of the currency the amounts are expressed in.
is_deleted|bool|Whether the record was soft-deleted in the source system.
is_test|bool|Whether the record was created by an internal test or sandbox account.
name|txt|Human-readable name of the record as shown in the source application.
email|txt|Email address associated with the record, lower-cased and trimmed.
country_code|vc|Two-letter ISO 3166 country code of the billing or primary address.
region|txt|Sales region derived from the country code using the region mapping seed.
channel|txt|Acquisition or sales channel the record is attributed to.
quantity|int|Number of units on the record; negative for returns and corrections.
discount_amount|num|Total discount applied to the record, in the record currency.
tax_amount|num|Total tax charged on the record, in the record currency.
closed_at|ts|Timestamp (UTC) at which the record reached a terminal status, if any.
owner_id|int|Identifier of the internal user who owns the record.
external_id|txt|Identifier of the record in the upstream system, kept for reconciliation.
priority|txt|Priority assigned to the record (low, normal, high, urgent).
score|dbl|Model-derived score between 0 and 1; higher means more likely to convert.
first_seen_date|date|Calendar date (UTC) on which the record was first observed.
last_seen_date|date|Calendar date (UTC) on which the record was last observed.
notes|txt|Free-text notes entered by users; may be empty.
source_relation|txt|Source schema and table the record was unioned from.
_fivetran_synced|ts|Timestamp of when the record was last synced by the loader.""".splitlines()
    )
]
DOC_ATTRS = {"created_at", "updated_at", "is_deleted", "source_relation", "_fivetran_synced"}
CONFIG_KEYS = [
    "enabled",
    "alias",
    "schema",
    "database",
    "tags",
    "meta",
    "group",
    "static_analysis",
    "materialized",
    "incremental_strategy",
    "batch_size",
    "lookback",
    "begin",
    "persist_docs",
    "post-hook",
    "pre-hook",
    "quoting",
    "column_types",
    "full_refresh",
    "unique_key",
    "on_schema_change",
    "on_configuration_change",
    "grants",
    "packages",
    "docs",
    "contract",
    "event_time",
    "concurrent_batches",
]
TEST_CONFIG = {
    "enabled": True,
    "alias": None,
    "schema": "dbt_test__audit",
    "database": None,
    "tags": [],
    "meta": {},
    "group": None,
    "static_analysis": None,
    "materialized": "test",
    "severity": "ERROR",
    "store_failures": None,
    "store_failures_as": None,
    "where": None,
    "limit": None,
    "fail_calc": "count(*)",
    "warn_if": "!= 0",
    "error_if": "!= 0",
}
STATS = {
    "has_stats": {
        "id": "has_stats",
        "label": "Has Stats?",
        "value": False,
        "include": False,
        "description": "Indicates whether there are statistics for this table",
    }
}


def short_hash(*parts: object, n: int = 32) -> str:
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()[:n]


def raw_column(column: str) -> str:
    """The column's name in the raw (source) table."""
    return column if column.startswith("_") else column.replace("_", "")


def docs_config() -> dict:
    return {"show": True, "node_color": None}


def contract_config() -> dict:
    return {"enforced": False, "alias_types": True, "checksum": None}


def column_entry(name: str, desc: str, doc: str | None = None) -> dict:
    return {
        "name": name,
        "description": desc,
        "meta": {},
        "data_type": None,
        "constraints": [],
        "quote": None,
        "config": {"meta": {}, "tags": []},
        "tags": [],
        "granularity": None,
        "doc_blocks": [doc] if doc else [],
    }


def undescribed() -> dict:
    """The fields, in dbt's order, of a node that no YAML describes (tests, seeds)."""
    return {
        "tags": [],
        "description": "",
        "columns": {},
        "meta": {},
        "group": None,
        "docs": docs_config(),
        "patch_path": None,
        "build_path": None,
    }


def ref_entry(name: str) -> dict:
    return {"name": name, "package": None, "version": None}


def node_config(**over: Any) -> dict:
    cfg = dict.fromkeys(CONFIG_KEYS)
    cfg.update(
        enabled=True,
        tags=[],
        meta={},
        lookback=1,
        persist_docs={},
        quoting={},
        grants={},
        column_types={},
        on_schema_change="ignore",
        on_configuration_change="apply",
        packages=[],
        docs=docs_config(),
        contract={"enforced": False, "alias_types": True},
    )
    cfg["post-hook"], cfg["pre-hook"] = [], []
    cfg.update(over)
    return cfg
