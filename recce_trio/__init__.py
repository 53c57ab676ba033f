"""recce-trio: a Trio-native server for reviewing what a dbt change does."""

__version__ = "0.1.0"
