"""Warehouse runs, the pure part: params, sql_template rendering, relations, and the SQL of
each run type for each dialect (no I/O; recce_trio.warehouse executes it)."""
