"""``docproc evaluate GOLDEN``: run a hand-labelled golden set through a stack, score it, report, gate.

golden.py    load and validate the golden folder (documents/ + expected/*.json)
matching.py  compare one expected value with one predicted value, by the field's type in the class schema
scoring.py   per-document outcomes and the metrics (domain, class, fields, calibration, cost, latency)
gates.py     the --min-* / --max-* quality gates
runner.py    upload the documents, wait for their records, read the result JSON
report.py    report.md, report.json, reliability.svg;  terminal.py  the rich tables
cli.py       the ``evaluate`` sub-command
"""
