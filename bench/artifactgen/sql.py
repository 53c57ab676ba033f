"""Each model's SQL in either environment: raw_code (Jinja, as written) and compiled_code.

Staging models select from their source, the others join their parents; current's edits (a
filter, a column added, removed or retyped) and the project macro's two versions show in
both. ``compiled`` injects ephemeral ancestors as CTEs, as dbt does.
"""

from __future__ import annotations

from .shape import Model, ProjectShape
from .vocab import DB, raw_column


class ProjectSql(ProjectShape):
    """The shape, with each model's SQL rendered."""

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
                    f"cast({raw_column(n)} as {t}) as {n}"
                    if cast
                    else f"{raw_column(n)} as {n}"
                    if raw_column(n) != n
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
