"""Mediator evaluation and quarterly analysis (the seed, section 4(2)): figures per mediator, organisation,
court and period, computed in one place (:mod:`stats.figures`) from plain rows that :mod:`stats.load` reads.

Modules:

- :mod:`~stats.periods` — quarters and date ranges in Asia/Shanghai dates;
- :mod:`~stats.figures` — the rows, the figures and their definitions (pure);
- :mod:`~stats.scope` — whose cases a caller's statistics cover;
- :mod:`~stats.load` — the SQL adapter that reads the rows (SQLAlchemy Core);
- :mod:`~stats.service` — scope, load and compute together: the report the API, console and CLI show;
- :mod:`~stats.labels` — the figures' names in Chinese and English;
- :mod:`~stats.table` — the figures as CSV;
- :mod:`~stats.svg` and :mod:`~stats.pdf` — charts for the console and the quarterly PDF report.

The definitions are written down in ``docs/statistics.md``.
"""
