"""The project drawn from the seed: its models, DAG, columns, tests and current's changes.

``Model`` is one model with what each environment makes of it (columns, materialization,
description). ``ProjectShape`` builds the staging -> intermediate -> marts DAG, gives each model
its columns and generic tests, picks what current changes relative to base, and answers which
models exist in an environment and each node's relation name. The rendering of the nodes is
layered on top of it (``sql``, ``nodes``, ``project``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .vocab import ATTRS, DB, DOMAINS, ENTITIES, PKG, RETYPE, SYSTEMS, TARGET


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


class ProjectShape:
    """The shape of the project (DAG, columns, tests, changes) and its relation names."""

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

    def exists(self, m: Model, env: str) -> bool:
        return m.env in ("both", env)

    def relation(self, uid: str, env: str) -> str:
        if uid.startswith("seed."):
            return f'"{DB}"."{TARGET[env]}_seeds"."{uid.split(".")[-1]}"'
        m = self.by_uid[uid]
        if m.mat == "ephemeral":
            return f"__dbt__cte__{m.name}"
        return f'"{DB}"."{TARGET[env]}_{m.layer}"."{m.name}"'
