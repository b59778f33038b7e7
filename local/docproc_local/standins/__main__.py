"""``python -m docproc_local.standins``: serve the stand-ins until interrupted (see ``--help``)."""

from docproc_local.standins.server import main

raise SystemExit(main())
