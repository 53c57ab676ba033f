"""The bundled demo: a small shop's dbt artifacts (base and current) and its DuckDB."""
