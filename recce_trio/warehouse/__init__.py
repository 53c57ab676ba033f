"""The warehouse: dbt profiles, engines (DuckDB, PostgreSQL, any dbt adapter) and run execution.

Synchronous and blocking: the server calls it from worker threads. Drivers are imported only
when an engine is opened, so importing this package costs nothing at startup.
"""
