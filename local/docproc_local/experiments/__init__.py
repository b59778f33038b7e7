"""``docproc experiment``: A/B experiments on models and prompts, compared with statistics.

records.py   read an experiment's records (a local run's records.jsonl, a JSON Lines file, or a deployed stack)
metrics.py   per-variant measures: documents, latency, tokens, cost, rates, field F1 (with a golden set)
stats.py     Welch's t-test, the two-proportion z-test, Holm's correction, the sample size for a rate difference
decision.py  keep running / roll out / roll back, and why
charts.py    PNG charts (matplotlib);  report.py  report.json and the terminal table (rich)
cli.py       the ``experiment check`` and ``experiment report`` sub-commands
"""
