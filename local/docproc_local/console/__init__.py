"""The results console (``docproc console``): a local web page over a stack's documents, fields, reviews,
failures, events, cost and experiments; and ``docproc golden export``, reviews as a golden set."""
