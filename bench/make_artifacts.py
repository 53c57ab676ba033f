"""Generate dbt-shaped base/current artifacts for N models, for benchmarks and tests.

    python bench/make_artifacts.py --models 5000 --out /tmp/gen5000 [--seed 0]

writes DIR/target-base/{manifest,catalog}.json and DIR/target/{manifest,catalog}.json, shaped as
dbt-core 1.11 writes manifest schema v12 and catalog v1 on postgres (key order, value shapes and
byte layout ``{"a": 1, "b": [2]}`` included), and sized like a real project: about 20 kB of
manifest and 2.6 kB of catalog per model (2,000 models: ~40 MB + ~5 MB).

The project is a staging -> intermediate -> marts DAG over N/4 sources plus seeds, with ~600
adapter and package macros, ~3 generic tests per model and a few exposures. Base is built in the
prod schemas ``analytics_*``, current in CI schemas ``dbt_ci_*``, as recce users run them.
Current differs from base, deterministically from the seed, by: changed raw_code (~2%, some with
catalog columns added, removed or retyped), changed config (~1%, materialized), changed
descriptions (persist_docs on), added and removed models, a changed macro and a removed source.
``make_project`` returns a summary naming every unique_id it changed, for tests to assert on.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

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


def _h(*parts: object, n: int = 32) -> str:
    return hashlib.md5("|".join(map(str, parts)).encode()).hexdigest()[:n]


def _raw(column: str) -> str:
    """The column's name in the raw (source) table."""
    return column if column.startswith("_") else column.replace("_", "")


def _docs() -> dict:
    return {"show": True, "node_color": None}


def _contract() -> dict:
    return {"enforced": False, "alias_types": True, "checksum": None}


def _column(name: str, desc: str, doc: str | None = None) -> dict:
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


def _ref(name: str) -> dict:
    return {"name": name, "package": None, "version": None}


def _config(**over: Any) -> dict:
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
        docs=_docs(),
        contract={"enforced": False, "alias_types": True},
    )
    cfg["post-hook"], cfg["pre-hook"] = [], []
    cfg.update(over)
    return cfg


@dataclass(eq=False)
class Model:
    idx: int
    name: str
    layer: str  # staging | intermediate | marts
    folder: str
    mat: str  # view | table | incremental | ephemeral
    cols: list  # [(name, type, description)]
    entity: str
    parents: list = field(default_factory=list)  # unique_ids of models and seeds
    source: tuple | None = None  # (source_name, table)
    ndoc: int = 0  # columns documented in YAML: cols[:ndoc]
    tests: list = field(default_factory=list)  # [(kind, column, extra)]
    macro: bool = False  # calls {{ cents_to_dollars() }}
    env: str = "both"  # both | base (removed in current) | current (added in current)
    code: str | None = None  # None | edit | added | removed | type (the last 3 change columns)
    config: bool = False
    desc: bool = False

    @property
    def uid(self) -> str:
        return f"model.{PKG}.{self.name}"

    def columns(self, env: str) -> list:
        cols = list(self.cols)
        if env == "current" and self.code == "added":
            cols.append(("lifetime_value", "numeric", "Sum of net amounts over the lifetime."))
        elif env == "current" and self.code == "removed":
            cols.pop()
        elif env == "current" and self.code == "type":
            cols[-1] = (cols[-1][0], RETYPE[cols[-1][1]], cols[-1][2])
        return cols

    def materialized(self, env: str) -> str:
        if env == "current" and self.config:
            return "table" if self.mat == "view" else "view"
        return self.mat

    def description(self, env: str) -> str:
        d = (
            f"One row per {self.entity.replace('_', ' ')} from {self.folder}, {self.layer} layer. "
            f"Built from {len(self.parents) or 1} upstream relation(s); see column descriptions "
            "for definitions and caveats."
        )
        changed = env == "current" and self.desc
        return d + (" Excludes test accounts since 2026-01." if changed else "")


class Project:
    """The shape of the project (DAG, columns, tests, changes); renders either environment."""

    def __init__(self, n_models: int, seed: int) -> None:
        rng = self.rng = random.Random(seed)
        self.seed, self.models, self.by_uid = seed, [], {}
        self.seeds = [f"{e}_mapping" for e in ENTITIES][: max(3, n_models // 100)]
        n_stg, names = max(1, n_models // 4), set()

        def unique(name: str) -> str:
            base, k = name, 1
            while name in names:
                k += 1
                name = f"{base}_{k}"
            names.add(name)
            return name

        for i in range(n_models):
            if i < n_stg:  # one staging model per source table
                system = SYSTEMS[i % len(SYSTEMS)]
                ent = ENTITIES[(i // len(SYSTEMS)) % len(ENTITIES)]
                name = unique(f"stg_{system}__{ent}s")
                m = Model(
                    i,
                    name,
                    "staging",
                    f"staging/{system}",
                    "view",
                    self._cols(ent, [], 6, 25),
                    ent,
                    source=(system, name.split("__", 1)[1]),
                )
            else:  # intermediate, then marts: ref 1-4 recent models, sometimes a seed
                marts = i >= n_stg + (n_models - n_stg) * 3 // 5
                pool = self.models[max(0, i - 400) : i]
                parents = [p.uid for p in rng.sample(pool, min(len(pool), rng.randint(1, 4)))]
                if not marts and rng.random() < 0.1:
                    parents.append(f"seed.{PKG}.{rng.choice(self.seeds)}")
                ent = self.by_uid[parents[0]].entity
                fks = [self.by_uid[p].cols[0] for p in parents[1:] if p in self.by_uid]
                # What the parents have: a model selects only columns its parents have.
                avail = [c for p in parents if p in self.by_uid for c in self.by_uid[p].cols[1:]]
                if marts:
                    folder = f"marts/{rng.choice(DOMAINS)}"
                    name = f"{rng.choice(['fct', 'fct', 'dim'])}_{folder[6:]}__{ent}s"
                    mat = rng.choice(["table", "table", "incremental"])
                else:
                    folder = f"intermediate/{rng.choice(SYSTEMS)}"
                    verb = rng.choice(["joined", "enriched", "aggregated", "pivoted", "deduped"])
                    name = f"int_{folder[13:]}__{ent}s_{verb}"
                    mat = "ephemeral" if rng.random() < 0.04 else "view"
                m = Model(
                    i,
                    unique(name),
                    folder.split("/")[0],
                    folder,
                    mat,
                    self._cols(ent, fks, 8 if marts else 6, 30 if marts else 22, avail),
                    ent,
                    parents,
                    macro=rng.random() < 0.04,
                )
                # The macro reads amount_cents: only where a parent has it.
                m.macro = m.macro and any(c[0] == "amount_cents" for c in avail)
                if m.macro:
                    m.cols.insert(1, ("amount_usd", "numeric", "Amount in US dollars."))
            m.ndoc = max(2, int(len(m.cols) * (1.0 if m.layer == "marts" else 0.7)))
            self._add(m)
        self._change(n_models)

    def _cols(self, ent: str, fks: list, lo: int, hi: int, avail: list | None = None) -> list:
        """The pk, the foreign keys, and attributes: any (a staging model's source has them
        all) or, for a model over other models, ones its parents have (``avail``)."""
        pk = (f"{ent}_id", "integer", f"Primary key of the {ent.replace('_', ' ')}; unique.")
        cols = [pk, *(c for c in dict.fromkeys(fks) if c[0] != pk[0])]
        taken = {c[0] for c in cols}
        pool = ATTRS
        if avail is not None:
            named = {c[0]: c for c in avail if c[0] not in taken and c[0] != "amount_usd"}
            pool = list(named.values()) or ATTRS[:1]
        k = min(len(pool), self.rng.randint(lo, hi) - len(cols))
        return cols + self.rng.sample(pool, max(1, k))

    def _add(self, m: Model) -> None:
        """Register a model and give it generic tests: ~3 per model (none on ephemerals)."""
        rng, pk, documented = self.rng, m.cols[0][0], [c[0] for c in m.cols[: m.ndoc]]
        if m.mat != "ephemeral":
            m.tests = [("not_null", pk, None), ("unique", pk, None)]
            if "status" in documented and rng.random() < 0.6:
                m.tests.append(("accepted_values", "status", ["active", "pending", "closed"]))
            for p in m.parents[1:]:
                pm = self.by_uid.get(p)
                fk = pm.cols[0][0] if pm and pm.mat != "ephemeral" else None
                if fk in documented and rng.random() < 0.7:
                    m.tests.append(("relationships", fk, pm.name))
            tested = {t[1] for t in m.tests}
            extra = [n for n in documented[1:] if n.endswith(("_id", "_at")) and n not in tested]
            m.tests += [("not_null", n, None) for n in extra[:1] if rng.random() < 0.6]
        self.models.append(m)
        self.by_uid[m.uid] = m

    def _change(self, n: int) -> None:
        """Pick what current changes relative to base (and the exposures, which must survive)."""
        rng, few = random.Random(f"{self.seed}-changes"), max(3, n // 500)
        parents = {p for m in self.models for p in m.parents}
        marts = [m for m in self.models if m.layer == "marts"] or self.models
        names = ["revenue", "growth", "churn", "support", "pipeline", "ops", "finance", "product"]
        self.exposures = [
            (f"{d}_dashboard", [m.uid for m in rng.sample(marts, min(len(marts), k))])
            for k, d in enumerate(names[: max(3, min(8, n // 500))], 1)
        ]
        exposed = {u for _, deps in self.exposures for u in deps}
        keep = parents | exposed
        leaves = [
            m
            for m in self.models
            if m.uid not in keep and m.layer != "staging" and m.mat != "ephemeral"
        ]
        for m in rng.sample(leaves, min(len(leaves), max(2, n // 1000))):
            m.env = "base"
        # A legacy source whose only staging model is dropped along with it.
        self._add(
            Model(
                len(self.models),
                "stg_legacy_crm__accounts",
                "staging",
                "staging/legacy_crm",
                "view",
                self._cols("account", [], 6, 12),
                "account",
                source=("legacy_crm", "accounts"),
                ndoc=3,
                env="base",
            )
        )
        kept = [m for m in self.models if m.env == "both"]
        marts = [m for m in marts if m.env == "both"]
        n_code, n_config = max(2, n // 50), max(1, n // 100)
        changed = rng.sample(kept, min(len(kept), n_code))

        def col_ok(m: Model) -> bool:  # never drop or retype a tested column
            tested = {t[1] for t in m.tests} | {"status"}
            return m.mat != "ephemeral" and len(m.cols) > 3 and m.cols[-1][0] not in tested

        # Columns are only dropped from leaves, so that no child selects a column that is gone.
        droppable = [m for m in kept if m.uid not in parents and m not in changed and col_ok(m)]
        for i, m in enumerate(changed[:n_code]):
            kind = ("added", "type", "removed", "edit", "edit")[i % 5]
            if kind == "removed" and droppable:
                m = changed[i] = droppable.pop(rng.randrange(len(droppable)))
            m.code = kind if col_ok(m) and (kind != "removed" or m.uid not in parents) else "edit"
        flippable = [m for m in kept if m.mat in ("view", "table") and m not in changed]
        for m in rng.sample(flippable, min(len(flippable), n_config)):
            m.config = True
            changed.append(m)
        unchanged = [m for m in marts if m not in changed]
        for m in rng.sample(unchanged, min(len(unchanged), few)):
            m.desc = True
        for k in range(few):
            ups = rng.sample(marts, min(len(marts), 2))
            self._add(
                Model(
                    len(self.models),
                    f"fct_new__metric_{k + 1}",
                    "marts",
                    "marts/new",
                    "table",
                    self._cols(
                        "metric", [u.cols[0] for u in ups], 8, 20, [c for u in ups for c in u.cols]
                    ),
                    "metric",
                    [u.uid for u in ups],
                    ndoc=4,
                    env="current",
                )
            )

    # ---- rendering ------------------------------------------------------------------------------

    def exists(self, m: Model, env: str) -> bool:
        return m.env in ("both", env)

    def relation(self, uid: str, env: str) -> str:
        if uid.startswith("seed."):
            return f'"{DB}"."{TARGET[env]}_seeds"."{uid.split(".")[-1]}"'
        m = self.by_uid[uid]
        if m.mat == "ephemeral":
            return f"__dbt__cte__{m.name}"
        return f'"{DB}"."{TARGET[env]}_{m.layer}"."{m.name}"'

    def sql(self, m: Model, env: str, compiled: bool) -> str:
        """The model's raw_code, or its compiled_code (before ephemeral CTEs are injected)."""
        cur, cols = env == "current", m.columns(env)
        retyped = len(cols) - 1 if cur and m.code == "type" else -1
        head = ""
        if m.mat == "incremental":
            head = (
                "\n\n"
                if compiled
                else (
                    f"{{{{\n    config(\n        materialized='incremental',\n"
                    f"        unique_key='{cols[0][0]}',\n"
                    "        on_schema_change='append_new_columns'\n    )\n}}\n\n"
                )
            )
        elif m.mat == "ephemeral":
            head = "\n\n" if compiled else "{{ config(materialized='ephemeral') }}\n\n"
        joins: list[str] = []
        if m.source:
            sname, table = m.source
            src = (
                f'"{DB}"."{sname}"."{table}"'
                if compiled
                else f"{{{{ source('{sname}', '{table}') }}}}"
            )
            ctes, a0, key = [("source", f"select * from {src}")], "source", "id"
            exprs = [f"id as {cols[0][0]}"]
            for i, (n, t, _) in enumerate(cols[1:], 1):
                cast = i % 3 == 0 or i == retyped
                exprs.append(
                    f"cast({_raw(n)} as {t}) as {n}"
                    if cast
                    else f"{_raw(n)} as {n}"
                    if _raw(n) != n
                    else n
                )
        else:
            names = {p: p.split(".")[-1] for p in m.parents}
            ctes = [
                (
                    names[p],
                    "select * from "
                    + (self.relation(p, env) if compiled else f"{{{{ ref('{names[p]}') }}}}"),
                )
                for p in m.parents
            ]
            a0 = names[m.parents[0]]
            key = f"{a0}.{cols[0][0]}"
            owner = {self.by_uid[p].cols[0][0]: names[p] for p in m.parents[1:] if p in self.by_uid}
            # Every other column from the first parent that has it in this environment.
            for p in reversed(m.parents):
                if p in self.by_uid:
                    owner.update((c[0], names[p]) for c in self.by_uid[p].columns(env)[1:])
            owner[cols[0][0]] = a0
            pk0 = self.by_uid[m.parents[0]].cols[0][0] if m.parents[0] in self.by_uid else None
            exprs = []
            for i, (n, t, _) in enumerate(cols):
                if n == "amount_usd":  # the project macro, rendered as each env's version of it
                    cents = f"{owner.get('amount_cents', a0)}.amount_cents"
                    if not compiled:
                        exprs.append(f"{{{{ cents_to_dollars('{cents}') }}}} as amount_usd")
                    elif cur:
                        exprs.append(f"round(({cents} / 100)::numeric, 2) as amount_usd")
                    else:
                        exprs.append(f"({cents} / 100)::numeric(16, 2) as amount_usd")
                elif i == 0 and pk0 is not None and pk0 != n:  # a new grain: keyed by a0's
                    exprs.append(f"{a0}.{pk0} as {n}")
                elif n not in owner:  # a column new in this environment
                    exprs.append(f"cast(null as {t}) as {n}")
                elif i == retyped:
                    exprs.append(f"cast({owner[n]}.{n} as {t}) as {n}")
                else:
                    exprs.append(f"{owner[n]}.{n}")
            for p in m.parents[1:]:
                fk = self.by_uid[p].cols[0][0] if p in self.by_uid else None
                on = f"{a0}.{fk} = {names[p]}.{fk}" if fk else f"{a0}.status = {names[p]}.code"
                joins.append(f"    left join {names[p]}\n        on {on}")
        tail = ""
        if m.mat == "incremental":
            tail = (
                "\n\n    \n\n    "
                if compiled
                else (
                    f"\n\n    {{% if is_incremental() %}}\n    where {a0}.updated_at > "
                    "(select max(updated_at) from {{ this }})\n    {% endif %}"
                )
            )
        if cur and m.code == "edit":
            tail += (
                f"\n    -- exclude rows without a key (see PR {4000 + m.idx})\n"
                f"    where {key} is not null"
            )
        body = ",\n\n".join(f"{n} as (\n\n    {s}\n\n)" for n, s in ctes)
        select = ",\n        ".join(exprs)
        final = f"final as (\n\n    select\n        {select}\n    from {a0}"
        final += "".join("\n" + j for j in joins) + tail + "\n\n)"
        return f"{head}with {body},\n\n{final}\n\nselect * from final"

    def compiled(self, m: Model, env: str) -> tuple[str, list]:
        """compiled_code with ephemeral ancestors injected as CTEs, and extra_ctes."""
        ctes: list[dict] = []

        def collect(x: Model) -> None:
            for p in x.parents:
                pm = self.by_uid.get(p)
                if pm and pm.mat == "ephemeral" and all(c["id"] != p for c in ctes):
                    collect(pm)
                    sql = self.sql(pm, env, True).lstrip()
                    ctes.append({"id": p, "sql": f" __dbt__cte__{pm.name} as (\n{sql}\n)"})

        collect(m)
        code = self.sql(m, env, True)
        if ctes:
            lead, rest = code.split("with ", 1)
            code = lead + "with" + ",  ".join(c["sql"] for c in ctes) + ",  " + rest
        return code, ctes

    def model_node(self, m: Model, env: str, t: float) -> dict:
        mat, cols = m.materialized(env), m.columns(env)
        raw, (code, ctes) = self.sql(m, env, False), self.compiled(m, env)
        persist = {"relation": True, "columns": True} if m.layer == "marts" else {}
        unrendered: dict[str, Any] = {"materialized": mat, "schema": m.layer}
        if persist:
            unrendered["persist_docs"] = persist
        incremental = {"unique_key": cols[0][0], "on_schema_change": "append_new_columns"}
        if mat == "incremental":
            unrendered.update(incremental)
        yml = f"models/{m.folder}/_{m.folder.split('/')[-1]}__models.yml"
        macros = [f"macro.{PKG}.cents_to_dollars"] if m.macro else []
        macros += ["macro.dbt.is_incremental"] if mat == "incremental" else []
        return {
            "database": DB,
            "schema": f"{TARGET[env]}_{m.layer}",
            "name": m.name,
            "resource_type": "model",
            "package_name": PKG,
            "path": f"{m.folder}/{m.name}.sql",
            "original_file_path": f"models/{m.folder}/{m.name}.sql",
            "unique_id": m.uid,
            "fqn": [PKG, *m.folder.split("/"), m.name],
            "alias": m.name,
            "checksum": {"name": "sha256", "checksum": hashlib.sha256(raw.encode()).hexdigest()},
            "config": _config(
                schema=m.layer,
                materialized=mat,
                persist_docs=persist,
                **(incremental if mat == "incremental" else {}),
                access="protected",
                freshness=None,
            ),
            "tags": [],
            "description": m.description(env),
            "columns": {
                n: _column(n, d, f"doc.{PKG}.{n}" if n in DOC_ATTRS else None)
                for n, _, d in cols[: m.ndoc]
            },
            "meta": {},
            "group": None,
            "docs": _docs(),
            "patch_path": f"{PKG}://{yml}",
            "build_path": None,
            "unrendered_config": unrendered,
            "created_at": t,
            "relation_name": None if mat == "ephemeral" else self.relation(m.uid, env),
            "raw_code": raw,
            "doc_blocks": [],
            "language": "sql",
            "refs": [_ref(p.split(".")[-1]) for p in m.parents],
            "sources": [list(m.source)] if m.source else [],
            "metrics": [],
            "functions": [],
            "depends_on": {
                "macros": macros,
                "nodes": [f"source.{PKG}.{'.'.join(m.source)}"] if m.source else list(m.parents),
            },
            "compiled_path": f"target/compiled/{PKG}/models/{m.folder}/{m.name}.sql",
            "compiled": True,
            "compiled_code": code,
            "extra_ctes_injected": True,
            "extra_ctes": ctes,
            "contract": _contract(),
            "access": "protected",
            "constraints": [],
            "version": None,
            "latest_version": None,
            "deprecation_date": None,
            "primary_key": [cols[0][0]] if ("unique", cols[0][0], None) in m.tests else [],
            "time_spine": None,
        }

    def test_node(self, m: Model, kind: str, col: str, extra: Any, env: str, t: float) -> dict:
        kwargs: dict[str, Any] = {
            "column_name": col,
            "model": f"{{{{ get_where_subquery(ref('{m.name}')) }}}}",
        }
        rel, refs, deps = self.relation(m.uid, env), [_ref(m.name)], [m.uid]
        if kind == "relationships":
            name = f"relationships_{m.name}_{col}__{col}__ref_{extra}_"
            kwargs = {"field": col, "to": f"ref('{extra}')", **kwargs}
            refs, deps = [_ref(extra), *refs], [f"model.{PKG}.{extra}", *deps]
            sql = (
                f"with child as (\n    select {col} as from_field\n    from {rel}\n"
                f"    where {col} is not null\n),\n\nparent as (\n    select {col} as to_field\n"
                f"    from {self.relation(deps[0], env)}\n)\n\nselect\n    from_field\n\n"
                "from child\nleft join parent\n    on child.from_field = parent.to_field\n\n"
                "where parent.to_field is null"
            )
        elif kind == "accepted_values":
            name = f"accepted_values_{m.name}_{col}__" + "__".join(extra)
            kwargs = {"values": extra, **kwargs}
            sql = (
                f"with all_values as (\n\n    select\n        {col} as value_field,\n"
                f"        count(*) as n_records\n\n    from {rel}\n    group by {col}\n\n)\n\n"
                "select *\nfrom all_values\nwhere value_field not in (\n    "
                + ",".join(f"'{v}'" for v in extra)
                + "\n)"
            )
        elif kind == "unique":
            name = f"unique_{m.name}_{col}"
            sql = (
                f"select\n    {col} as unique_field,\n    count(*) as n_records\n\nfrom {rel}\n"
                f"where {col} is not null\ngroup by {col}\nhaving count(*) > 1"
            )
        else:
            name, sql = f"not_null_{m.name}_{col}", f"select {col}\nfrom {rel}\nwhere {col} is null"
        long = len(name) >= 64  # dbt shortens long generic test names to a hashed alias
        alias = f"{name[:30]}_{_h(name)}" if long else name
        yml = f"models/{m.folder}/_{m.folder.split('/')[-1]}__models.yml"
        raw = f"{{{{ test_{kind}(**_dbt_generic_test_kwargs) }}}}"
        return {
            "database": DB,
            "schema": f"{TARGET[env]}_dbt_test__audit",
            "name": name,
            "resource_type": "test",
            "package_name": PKG,
            "path": f"{alias}.sql",
            "original_file_path": yml,
            "unique_id": f"test.{PKG}.{name}.{_h(name, m.uid, n=10)}",
            "fqn": [PKG, *m.folder.split("/"), name],
            "alias": alias,
            "checksum": {"name": "none", "checksum": ""},
            "config": {**TEST_CONFIG, "alias": alias if long else None},
            "tags": [],
            "description": "",
            "columns": {},
            "meta": {},
            "group": None,
            "docs": _docs(),
            "patch_path": None,
            "build_path": None,
            "unrendered_config": {"alias": alias} if long else {},
            "created_at": t,
            "relation_name": None,
            "raw_code": raw + (f'{{{{ config(alias="{alias}") }}}}' if long else ""),
            "doc_blocks": [],
            "language": "sql",
            "refs": refs,
            "sources": [],
            "metrics": [],
            "functions": [],
            "depends_on": {
                "macros": [f"macro.dbt.test_{kind}", "macro.dbt.get_where_subquery"],
                "nodes": deps,
            },
            "compiled_path": f"target/compiled/{PKG}/{yml}/{alias}.sql",
            "compiled": True,
            "compiled_code": f"\n    \n    \n\n{sql}\n\n\n",
            "extra_ctes_injected": True,
            "extra_ctes": [],
            "contract": _contract(),
            "column_name": col,
            "file_key_name": f"models.{m.name}",
            "attached_node": m.uid,
            "test_metadata": {"name": kind, "kwargs": kwargs, "namespace": None},
        }

    def seed_node(self, name: str, env: str, t: float) -> dict:
        return {
            "database": DB,
            "schema": f"{TARGET[env]}_seeds",
            "name": name,
            "resource_type": "seed",
            "package_name": PKG,
            "path": f"{name}.csv",
            "original_file_path": f"seeds/{name}.csv",
            "unique_id": f"seed.{PKG}.{name}",
            "fqn": [PKG, name],
            "alias": name,
            "checksum": {"name": "sha256", "checksum": hashlib.sha256(name.encode()).hexdigest()},
            "config": _config(
                schema="seeds", materialized="seed", delimiter=",", quote_columns=None
            ),
            "tags": [],
            "description": "",
            "columns": {},
            "meta": {},
            "group": None,
            "docs": _docs(),
            "patch_path": None,
            "build_path": None,
            "unrendered_config": {"schema": "seeds"},
            "created_at": t,
            "relation_name": self.relation(f"seed.{PKG}.{name}", env),
            "raw_code": "",
            "doc_blocks": [],
            "root_path": f"/home/runner/work/{PKG}/{PKG}",
            "depends_on": {"macros": []},
        }

    def source_cols(self, m: Model) -> list:
        cols = m.columns("current") if m.code == "added" else m.cols
        pk = ("id", "integer", "Primary key of the raw record.")
        return [pk, *((_raw(n), t, d) for n, t, d in cols[1:])]

    def source_node(self, m: Model, t: float) -> dict:
        (system, table), yml = m.source, f"models/staging/{m.source[0]}/_{m.source[0]}__sources.yml"
        fresh = {
            "warn_after": {"count": 24, "period": "hour"},
            "error_after": {"count": 48, "period": "hour"},
            "filter": None,
        }
        common = {
            "loaded_at_field": "_fivetran_synced",
            "enabled": True,
            "freshness": fresh,
            "loaded_at_query": None,
            "meta": {},
            "tags": [],
        }
        return {
            "database": DB,
            "schema": system,
            "name": table,
            "resource_type": "source",
            "package_name": PKG,
            "path": yml,
            "original_file_path": yml,
            "unique_id": f"source.{PKG}.{system}.{table}",
            "fqn": [PKG, "staging", system, system, table],
            "source_name": system,
            "source_description": f"Raw {system} data, replicated hourly by Fivetran.",
            "loader": "fivetran",
            "identifier": table,
            "quoting": {"database": None, "schema": None, "identifier": None, "column": None},
            "loaded_at_field": "_fivetran_synced",
            "loaded_at_query": None,
            "freshness": fresh,
            "external": None,
            "description": f"One record per {m.entity.replace('_', ' ')} in {system}, as loaded.",
            "columns": {n: _column(n, d) for n, _, d in self.source_cols(m)[: m.ndoc // 2 + 1]},
            "meta": {},
            "source_meta": {},
            "tags": [],
            "config": {
                "enabled": True,
                "event_time": None,
                "freshness": fresh,
                "loaded_at_field": "_fivetran_synced",
                "loaded_at_query": None,
                "meta": {},
                "tags": [],
                "static_analysis": None,
            },
            "patch_path": None,
            "unrendered_config": common,
            "relation_name": f'"{DB}"."{system}"."{table}"',
            "created_at": t,
            "unrendered_database": None,
            "unrendered_schema": None,
            "doc_blocks": [],
        }

    def exposure_node(self, name: str, deps: list, t: float) -> dict:
        return {
            "name": name,
            "resource_type": "exposure",
            "package_name": PKG,
            "path": "exposures/_exposures.yml",
            "original_file_path": "models/exposures/_exposures.yml",
            "unique_id": f"exposure.{PKG}.{name}",
            "fqn": [PKG, "exposures", name],
            "type": "dashboard",
            "owner": {"email": "analytics@acme.example", "name": "Analytics Engineering"},
            "description": f"Looker dashboard '{name}', refreshed every morning.",
            "label": name.replace("_", " ").title(),
            "maturity": "high",
            "meta": {},
            "tags": [],
            "config": {"enabled": True, "tags": [], "meta": {}},
            "unrendered_config": {},
            "url": f"https://looker.acme.example/dashboards/{name}",
            "depends_on": {"macros": [], "nodes": deps},
            "refs": [_ref(d.split(".")[-1]) for d in deps],
            "sources": [],
            "metrics": [],
            "functions": [],
            "created_at": t,
        }

    def disabled(self, env: str, t: float) -> dict:
        """Two singular tests switched off with enabled=false: dbt keeps them under "disabled"."""
        out = {}
        for name in ("assert_revenue_reconciles_with_ledger", "assert_no_orphan_payments"):
            uid = f"test.{PKG}.{name}"
            raw = (
                "{{ config(enabled=false) }}\n\nselect *\n"
                "from {{ target.schema }}_marts.ledger_entries\nwhere amount is null"
            )
            out[uid] = [
                {
                    "database": DB,
                    "schema": f"{TARGET[env]}_dbt_test__audit",
                    "name": name,
                    "resource_type": "test",
                    "package_name": PKG,
                    "path": f"{name}.sql",
                    "original_file_path": f"tests/{name}.sql",
                    "unique_id": uid,
                    "fqn": [PKG, name],
                    "alias": name,
                    "checksum": {
                        "name": "sha256",
                        "checksum": hashlib.sha256(raw.encode()).hexdigest(),
                    },
                    "config": {**TEST_CONFIG, "enabled": False},
                    "tags": [],
                    "description": "",
                    "columns": {},
                    "meta": {},
                    "group": None,
                    "docs": _docs(),
                    "patch_path": None,
                    "build_path": None,
                    "unrendered_config": {"enabled": False},
                    "created_at": t,
                    "relation_name": None,
                    "raw_code": raw,
                    "doc_blocks": [],
                    "language": "sql",
                    "refs": [],
                    "sources": [],
                    "metrics": [],
                    "functions": [],
                    "depends_on": {"macros": [], "nodes": []},
                    "compiled_path": None,
                    "contract": _contract(),
                }
            ]
        return out


# ---- macros: an adapter-sized set (dbt, dbt_postgres, dbt_utils and the project's) ------------
VERBS = [
    "get",
    "create",
    "drop",
    "alter",
    "rename",
    "truncate",
    "list",
    "check",
    "make",
    "build",
    "validate",
    "render",
    "apply",
]
OBJECTS = [
    "columns_in_relation",
    "table_as",
    "view_as",
    "schema",
    "relation",
    "indexes",
    "grants",
    "catalog",
    "relations",
    "column_comment",
    "relation_comment",
    "temp_relation",
    "backup_relation",
    "intermediate_relation",
    "merge_sql",
    "delete_insert_sql",
    "insert_overwrite_sql",
    "append_sql",
    "empty_subquery_sql",
    "revoke_sql",
    "replace_sql",
    "materialized_view_as",
    "hooks",
    "batch_sql",
    "constraints",
    "column_schema",
    "select_sql",
    "limit_sql",
    "snapshot_staging_table",
    "timestamp_field",
    "unit_test_sql",
    "fixture_sql",
    "seed_column_type",
]
UTILS = [
    "star",
    "generate_surrogate_key",
    "date_spine",
    "pivot",
    "unpivot",
    "union_relations",
    "get_column_values",
    "deduplicate",
    "safe_add",
    "safe_divide",
    "safe_subtract",
    "group_by",
    "get_filtered_columns_in_relation",
    "get_relations_by_pattern",
    "get_relations_by_prefix",
    "get_tables_by_pattern_sql",
    "get_query_results_as_dict",
    "get_single_value",
    "nullcheck",
    "nullcheck_table",
    "haversine_distance",
    "width_bucket",
    "surrogate_key",
    "generate_series",
    "get_intervals_between",
    "get_url_host",
    "get_url_path",
    "get_url_parameter",
    "expression_is_true",
    "recency",
    "at_least_one",
    "not_constant",
    "not_empty_string",
    "cardinality_equality",
    "not_null_proportion",
    "not_accepted_values",
    "relationships_where",
    "mutually_exclusive_ranges",
    "sequential_values",
    "unique_combination_of_columns",
    "accepted_range",
    "equal_rowcount",
    "fewer_rows_than",
    "equality",
    "slugify",
    "log_info",
    "pretty_time",
    "pretty_log_format",
    "degrees_to_radians",
    "array_append_values",
    "split_part_safe",
]
IMPL = [
    """{% macro @N@(@A@) -%}
  {% call statement('@N@', fetch_result=True) %}
    select
        column_name,
        data_type,
        character_maximum_length,
        numeric_precision,
        numeric_scale
    from {{ @R@.information_schema('columns') }}
    where table_name = '{{ @R@.identifier }}'
      {% if @R@.schema %}
      and table_schema = '{{ @R@.schema }}'
      {% endif %}
    order by ordinal_position
  {% endcall %}
  {% set table = load_result('@N@').table %}
  {{ return(sql_convert_columns_in_relation(table)) }}
{%- endmacro %}""",
    """{% macro @N@(@A@) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {{ sql_header if sql_header is not none }}
  {%- set contract_config = config.get('contract') -%}
  create {% if temporary -%}temporary{%- endif %} table {{ @R@ }}
  {% if contract_config.enforced and (not temporary) %}
    {{ get_assert_columns_equivalent(sql) }}
    {{ get_table_columns_and_constraints() }} ;
    insert into {{ @R@ }} (
      {{ adapter.dispatch('get_column_names', 'dbt')() }}
    )
    {%- set sql = get_select_subquery(sql) %}
  {% else %}
    as
  {% endif %}
  (
    {{ sql }}
  );
{%- endmacro %}""",
    """{% macro @N@(@A@) -%}
  {#-- Build a quoted, comma separated list; strings are names, objects are columns --#}
  {%- set results = [] -%}
  {%- for item in @R@ -%}
    {%- if item is string -%}
      {%- do results.append(adapter.quote(item) if quote else item) -%}
    {%- else -%}
      {%- do results.append(adapter.quote(item.name) ~ ' ' ~ item.data_type) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(results | join(', ')) }}
{%- endmacro %}""",
]
MATERIALIZATION = """{% materialization @N@, default %}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set target_relation = this.incorporate(type='table') %}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation_type = existing_relation.type if existing_relation else 'table' -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {% set grant_config = config.get('grants') %}

  {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
  {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  -- `BEGIN` happens here:
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% call statement('main') -%}
    {{ get_create_table_as_sql(False, intermediate_relation, sql) }}
  {%- endcall %}
  {% do create_indexes(intermediate_relation) %}

  {% if existing_relation is not none %}
    {{ adapter.rename_relation(existing_relation, backup_relation) }}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=True) }}

  {% set should_revoke = should_revoke(existing_relation, full_refresh_mode=True) %}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke) %}
  {% do persist_docs(target_relation, model) %}

  -- `COMMIT` happens here
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}"""
GENERIC_TESTS = {
    "not_null": "select {{ column_list }}\nfrom {{ model }}\nwhere {{ column_name }} is null",
    "unique": "select\n    {{ column_name }} as unique_field,\n    count(*) as n_records\n\n"
    "from {{ model }}\nwhere {{ column_name }} is not null\n"
    "group by {{ column_name }}\nhaving count(*) > 1",
    "accepted_values": "with all_values as (\n    select {{ column_name }} as value_field\n"
    "    from {{ model }}\n)\nselect * from all_values\nwhere value_field not in"
    " ({% for v in values %}'{{ v }}'{% if not loop.last %},{% endif %}"
    "{% endfor %})",
    "relationships": "with child as (\n    select {{ column_name }} as from_field\n"
    "    from {{ model }}\n    where {{ column_name }} is not null\n),\n"
    "parent as (\n    select {{ field }} as to_field\n    from {{ to }}\n)\n"
    "select from_field\nfrom child\n"
    "left join parent on child.from_field = parent.to_field\n"
    "where parent.to_field is null",
}
CORE = {  # name: (path, macro_sql, depends_on)
    "statement": (
        "macros/etc/statement.sql",
        """\
{%- macro statement(name=None, fetch_result=False, auto_begin=True, language='sql') -%}
  {%- if execute: -%}
    {%- set compiled_code = caller() -%}
    {%- set res, table = adapter.execute(compiled_code, auto_begin, fetch=fetch_result) -%}
    {%- if name is not none -%}
      {{ store_result(name, response=res, agate_table=table) }}
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}""",
        [],
    ),
    "should_full_refresh": (
        "macros/materializations/configs.sql",
        """\
{% macro should_full_refresh() %}
  {% set config_full_refresh = config.get('full_refresh') %}
  {% if config_full_refresh is none %}
    {% set config_full_refresh = flags.FULL_REFRESH %}
  {% endif %}
  {% do return(config_full_refresh) %}
{% endmacro %}""",
        [],
    ),
    "should_store_failures": (
        "macros/materializations/configs.sql",
        """\
{% macro should_store_failures() %}
  {% set config_store_failures = config.get('store_failures') %}
  {% if config_store_failures is none %}
    {% set config_store_failures = flags.STORE_FAILURES %}
  {% endif %}
  {% do return(config_store_failures) %}
{% endmacro %}""",
        [],
    ),
    "is_incremental": (
        "macros/materializations/models/incremental/is_incremental.sql",
        """\
{% macro is_incremental() %}
    {% if not execute %}
        {{ return(False) }}
    {% else %}
        {% set relation = adapter.get_relation(this.database, this.schema, this.table) %}
        {{ return(relation is not none and relation.type == 'table'
                  and model.config.materialized == 'incremental' and not should_full_refresh()) }}
    {% endif %}
{% endmacro %}""",
        ["macro.dbt.should_full_refresh"],
    ),
    "get_where_subquery": (
        "macros/generic_test_sql/where_subquery.sql",
        """\
{% macro get_where_subquery(relation) -%}
    {% do return(adapter.dispatch('get_where_subquery', 'dbt')(relation)) %}
{%- endmacro %}""",
        ["macro.dbt.default__get_where_subquery"],
    ),
    "default__get_where_subquery": (
        "macros/generic_test_sql/where_subquery.sql",
        """\
{% macro default__get_where_subquery(relation) -%}
    {% set where = config.get('where', '') %}
    {% if where %}
        {% do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') %}
    {%- else -%}
        {% do return(relation) %}
    {%- endif -%}
{%- endmacro %}""",
        [],
    ),
}
CENTS = {
    "base": "({{ column_name }} / 100)::numeric(16, {{ scale }})",
    "current": "round(({{ column_name }} / 100)::numeric, {{ scale }})",
}
PROJECT_MACROS = {
    "generate_schema_name": """\
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}""",
    "limit_in_ci": """\
{% macro limit_in_ci(n=1000) -%}
    {%- if target.name == 'ci' -%} limit {{ n }} {%- endif -%}
{%- endmacro %}""",
}


def macros(env: str, t: float) -> dict:
    """About 600 macros, as dbt-postgres plus dbt_utils bring; cents_to_dollars differs by env."""
    out: dict[str, dict] = {}

    def add(pkg: str, name: str, path: str, sql: str, deps: list, langs: Any = None) -> None:
        uid = f"macro.{pkg}.{name}"
        out[uid] = {
            "name": name,
            "resource_type": "macro",
            "package_name": pkg,
            "path": path,
            "original_file_path": path,
            "unique_id": uid,
            "macro_sql": sql,
            "depends_on": {"macros": deps},
            "description": "",
            "meta": {},
            "docs": _docs(),
            "config": {"meta": {}, "docs": _docs()},
            "patch_path": None,
            "arguments": [],
            "created_at": t + len(out) * 1e-4,
            "supported_languages": langs,
        }

    def family(pkg: str, name: str, path: str, i: int, postgres: bool) -> None:
        """A dispatching macro, its default__ implementation and maybe a postgres__ one."""
        args = [
            "relation",
            "relation, sql",
            "from_relation, to_relation",
            "columns, quote=true",
            "model, config",
        ][i % 5]
        impl = (
            f"macro.dbt_postgres.postgres__{name}" if postgres else f"macro.{pkg}.default__{name}"
        )
        call = args.replace("=true", "")
        add(
            pkg,
            name,
            path,
            f"{{% macro {name}({args}) -%}}\n  {{{{ return(adapter.dispatch("
            f"'{name}', '{pkg}')({call})) }}}}\n{{%- endmacro %}}",
            [impl],
        )
        body = IMPL[i % 3].replace("@A@", args).replace("@R@", args.split(",")[0])
        deps = ["macro.dbt.statement"] if i % 3 == 0 else []
        add(pkg, f"default__{name}", path, body.replace("@N@", f"default__{name}"), deps)
        if postgres:
            add(
                "dbt_postgres",
                f"postgres__{name}",
                "macros/adapters.sql",
                body.replace("@N@", f"postgres__{name}"),
                deps,
            )

    for name, (path, sql, deps) in CORE.items():
        add("dbt", name, path, sql, deps)
    for kind, sql in GENERIC_TESTS.items():
        args = "model, column_name" + {
            "accepted_values": ", values",
            "relationships": ", to, field",
        }.get(kind, "")
        add(
            "dbt",
            f"test_{kind}",
            "tests/generic/builtin.sql",
            f"{{% test {kind}({args}) %}}\n    {{% set macro = adapter.dispatch('test_{kind}', "
            f"'dbt') %}}\n    {{{{ macro({args}) }}}}\n{{% endtest %}}",
            [f"macro.dbt.default__test_{kind}"],
        )
        add(
            "dbt",
            f"default__test_{kind}",
            f"macros/generic_test_sql/{kind}.sql",
            f"{{% macro default__test_{kind}({args}) %}}\n\n{{% set column_list = '*' if "
            f"should_store_failures() else column_name %}}\n\n{sql}\n\n{{% endmacro %}}",
            ["macro.dbt.should_store_failures"],
        )
    for kind in [
        "table",
        "view",
        "incremental",
        "seed",
        "snapshot",
        "test",
        "unit",
        "materialized_view",
        "clone",
    ]:
        add(
            "dbt",
            f"materialization_{kind}_default",
            f"macros/materializations/{kind}.sql",
            MATERIALIZATION.replace("@N@", kind),
            ["macro.dbt.statement"],
            ["sql"],
        )
    pairs = [f"{v}_{o}" for o in OBJECTS for v in VERBS]
    random.Random(1).shuffle(pairs)
    for i, name in enumerate(pairs[:205]):
        family("dbt", name, f"macros/adapters/{name.split('_', 1)[1]}.sql", i, i % 4 == 0)
    for i, name in enumerate(UTILS):
        family("dbt_utils", name, f"macros/sql/{name}.sql", i, False)
    add(
        PKG,
        "cents_to_dollars",
        "macros/cents_to_dollars.sql",
        "{% macro cents_to_dollars(column_name, scale=2) -%}\n    "
        + CENTS[env]
        + "\n{%- endmacro %}",
        [],
    )
    for name, sql in PROJECT_MACROS.items():
        add(PKG, name, f"macros/{name}.sql", sql, [])
    return out


# ---- artifacts ----------------------------------------------------------------------------------
def _stamp(ts: float, suffix: str = "Z") -> str:
    micros = round(ts * 1e6) % 10**6
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + f".{micros:06d}{suffix}"


def build_manifest(p: Project, env: str) -> dict:
    t, nodes, sources = CLOCK[env], {}, {}
    for i, s in enumerate(p.seeds):
        nodes[f"seed.{PKG}.{s}"] = p.seed_node(s, env, t + i * 1e-3)
    live = [m for m in p.models if p.exists(m, env)]
    for m in live:
        nodes[m.uid] = p.model_node(m, env, t + 5 + m.idx * 1e-3)
    for m in live:
        for kind, col, extra in m.tests:
            node = p.test_node(m, kind, col, extra, env, t + 9 + m.idx * 1e-3)
            nodes[node["unique_id"]] = node
    for m in live:
        if m.source:
            sources[f"source.{PKG}.{'.'.join(m.source)}"] = p.source_node(m, t + 12 + m.idx * 1e-3)
    exposures = {f"exposure.{PKG}.{n}": p.exposure_node(n, deps, t + 14) for n, deps in p.exposures}
    docs = {
        f"doc.{PKG}.{n}": {
            "name": n,
            "resource_type": "doc",
            "package_name": PKG,
            "path": "docs/columns.md",
            "original_file_path": "models/docs/columns.md",
            "unique_id": f"doc.{PKG}.{n}",
            "block_contents": d,
        }
        for n, _, d in ATTRS
    }
    docs["doc.dbt.__overview__"] = {
        "name": "__overview__",
        "resource_type": "doc",
        "package_name": "dbt",
        "path": "overview.md",
        "original_file_path": "docs/overview.md",
        "unique_id": "doc.dbt.__overview__",
        "block_contents": "### Welcome!\n\nThis is the documentation of the acme dbt project.\n\n"
        "Browse models with the Project and Database tabs, and follow their "
        "dependencies in the lineage graph.",
    }
    parent_map = {
        uid: sorted(n.get("depends_on", {}).get("nodes", []))
        for uid, n in (*nodes.items(), *sources.items(), *exposures.items())
    }
    child_map: dict[str, list] = {uid: [] for uid in parent_map}
    for uid, ups in parent_map.items():
        for up in ups:
            child_map[up].append(uid)
    for kids in child_map.values():
        kids.sort()
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json",
            "dbt_version": DBT_VERSION,
            "generated_at": _stamp(t + 20),
            "invocation_id": str(uuid.UUID(_h(p.seed, env))),
            "invocation_started_at": _stamp(t - 30, "+00:00"),
            "env": {},
            "project_name": PKG,
            "project_id": _h(PKG),
            "user_id": None,
            "send_anonymous_usage_stats": False,
            "adapter_type": "postgres",
            "quoting": {"database": True, "schema": True, "identifier": True, "column": None},
            "run_started_at": _stamp(t - 29.9997, "+00:00"),
        },
        "nodes": nodes,
        "sources": sources,
        "macros": macros(env, t - 3),
        "docs": docs,
        "exposures": exposures,
        "metrics": {},
        "groups": {},
        "selectors": {},
        "disabled": p.disabled(env, t + 2),
        "parent_map": parent_map,
        "child_map": child_map,
        "group_map": {},
        "saved_queries": {},
        "semantic_models": {},
        "unit_tests": {},
        "functions": {},
    }


def build_catalog(p: Project, env: str) -> dict:
    def table(
        uid: str, schema: str, name: str, kind: str, cols: list, comment: str | None, ndoc: int
    ) -> dict:
        return {
            "metadata": {
                "type": kind,
                "schema": schema,
                "name": name,
                "database": DB,
                "comment": comment,
                "owner": "dbt",
            },
            "columns": {
                n: {"type": t, "index": i + 1, "name": n, "comment": d if i < ndoc else None}
                for i, (n, t, d) in enumerate(cols)
            },
            "stats": STATS,
            "unique_id": uid,
        }

    nodes, sources = {}, {}
    seed_cols = [
        ("id", "integer"),
        ("code", "text"),
        ("label", "text"),
        ("sort_order", "integer"),
        ("is_active", "boolean"),
    ]
    for s in p.seeds:
        uid = f"seed.{PKG}.{s}"
        nodes[uid] = table(
            uid, f"{TARGET[env]}_seeds", s, "BASE TABLE", [(*c, "") for c in seed_cols], None, 0
        )
    for m in p.models:
        if not p.exists(m, env):
            continue
        if m.source:
            uid = f"source.{PKG}.{'.'.join(m.source)}"
            sources[uid] = table(uid, *m.source, "BASE TABLE", p.source_cols(m), None, 0)
        mat, persist = m.materialized(env), m.layer == "marts"  # persist_docs -> comments
        if mat != "ephemeral":
            nodes[m.uid] = table(
                m.uid,
                f"{TARGET[env]}_{m.layer}",
                m.name,
                "VIEW" if mat == "view" else "BASE TABLE",
                m.columns(env),
                m.description(env) if persist else None,
                m.ndoc if persist else 0,
            )
    t = CLOCK[env] + 27
    return {
        "metadata": {
            "dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json",
            "dbt_version": DBT_VERSION,
            "generated_at": _stamp(t),
            "invocation_id": str(uuid.UUID(_h(p.seed, env))),
            "invocation_started_at": _stamp(t - 7),
            "env": {},
        },
        "nodes": nodes,
        "sources": sources,
        "errors": None,
    }


def write_json(path: Path, obj: dict) -> int:
    """Write as dbt does (json.dumps defaults: ", " and ": " separators, no indent)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = msgspec.json.format(msgspec.json.encode(obj), indent=0)
    path.write_bytes(data)
    return len(data)


def validate(out_dir: Path) -> dict:
    """Re-read the four files and check the graph; return counts per environment."""
    counts = {}
    for env, sub in (("base", "target-base"), ("current", "target")):
        man = msgspec.json.decode((out_dir / sub / "manifest.json").read_bytes())
        cat = msgspec.json.decode((out_dir / sub / "catalog.json").read_bytes())
        graph = {**man["nodes"], **man["sources"], **man["exposures"]}
        assert set(man["parent_map"]) == set(graph) == set(man["child_map"]), "map keys"
        for uid, n in graph.items():
            deps = n.get("depends_on", {})
            assert man["parent_map"][uid] == sorted(deps.get("nodes", [])), f"parent_map[{uid}]"
            assert all(d in graph for d in deps.get("nodes", [])), f"dangling node in {uid}"
            assert all(d in man["macros"] for d in deps.get("macros", [])), f"macro of {uid}"
            for up in deps.get("nodes", []):
                assert uid in man["child_map"][up], f"child_map[{up}] lacks {uid}"
        edges = sum(map(len, man["parent_map"].values()))
        assert sum(map(len, man["child_map"].values())) == edges, "child_map has extra edges"
        for m in man["macros"].values():
            assert all(d in man["macros"] for d in m["depends_on"]["macros"]), m["unique_id"]
        assert set(cat["nodes"]) <= set(man["nodes"]) and set(cat["sources"]) == set(man["sources"])
        kinds: dict[str, int] = {}
        for n in man["nodes"].values():
            kinds[n["resource_type"]] = kinds.get(n["resource_type"], 0) + 1
        counts[env] = {
            **kinds,
            "sources": len(man["sources"]),
            "exposures": len(man["exposures"]),
            "macros": len(man["macros"]),
            "docs": len(man["docs"]),
            "disabled": len(man["disabled"]),
            "catalog_nodes": len(cat["nodes"]),
            "catalog_sources": len(cat["sources"]),
        }
        del man, cat, graph
    return counts


def make_project(out_dir: Path, n_models: int, *, seed: int = 0, check: bool = True) -> dict:
    """Write target-base/ and target/ under out_dir; return what was written and what differs.

    Keys: out_dir, n_models, seed, files ({relative path: bytes}), modified ({"raw_code",
    "config", "description", "macro": [model unique_ids]}), catalog_columns ({unique_id:
    {"added" | "removed" | "type_changed": [column]}}), added, removed, removed_sources,
    changed_macros, generate_seconds, and with check also counts ({env: {kind: n}}) and
    validate_seconds.
    """
    start, out_dir = time.perf_counter(), Path(out_dir)
    p = Project(n_models, seed)
    files = {}
    for env, sub in (("base", "target-base"), ("current", "target")):
        files[f"{sub}/manifest.json"] = write_json(
            out_dir / sub / "manifest.json", build_manifest(p, env)
        )
        files[f"{sub}/catalog.json"] = write_json(
            out_dir / sub / "catalog.json", build_catalog(p, env)
        )
    generated = time.perf_counter() - start
    label = {"added": "added", "removed": "removed", "type": "type_changed"}
    summary = {
        "out_dir": str(out_dir),
        "n_models": n_models,
        "seed": seed,
        "files": files,
        "modified": {
            "raw_code": [m.uid for m in p.models if m.code],
            "config": [m.uid for m in p.models if m.config],
            "description": [m.uid for m in p.models if m.desc],
            "macro": [m.uid for m in p.models if m.macro and m.env == "both"],
        },
        "catalog_columns": {
            m.uid: {label[m.code]: [m.columns("current" if m.code == "added" else "base")[-1][0]]}
            for m in p.models
            if m.code in label
        },
        "added": [m.uid for m in p.models if m.env == "current"],
        "removed": [m.uid for m in p.models if m.env == "base"],
        "removed_sources": [
            f"source.{PKG}.{'.'.join(m.source)}" for m in p.models if m.env == "base" and m.source
        ],
        "changed_macros": [f"macro.{PKG}.cents_to_dollars"],
        "generate_seconds": round(generated, 2),
    }
    if check:
        summary["counts"] = validate(out_dir)
        summary["validate_seconds"] = round(time.perf_counter() - start - generated, 2)
    return summary


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--models", type=int, required=True, help="number of models in base")
    ap.add_argument("--out", type=Path, required=True, help="writes OUT/target-base and OUT/target")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-validate", action="store_true", help="skip re-reading the output")
    args = ap.parse_args(argv)
    s = make_project(args.out, args.models, seed=args.seed, check=not args.no_validate)
    for name, size in s["files"].items():
        print(f"{args.out / name}: {size / 1e6:.1f} MB")
    for env, c in s.get("counts", {}).items():
        print(f"{env}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    print(
        "modified: "
        + ", ".join(f"{k} {len(v)}" for k, v in s["modified"].items())
        + f"; catalog column changes {len(s['catalog_columns'])}; added {len(s['added'])}; "
        f"removed {len(s['removed'])}; removed sources {len(s['removed_sources'])}"
    )
    print(
        f"generated in {s['generate_seconds']} s"
        + (f", validated in {s['validate_seconds']} s" if "validate_seconds" in s else "")
    )


if __name__ == "__main__":
    main()
