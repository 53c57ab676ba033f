{{ local_pkg.day_series('2024-01-01', 14) }}
