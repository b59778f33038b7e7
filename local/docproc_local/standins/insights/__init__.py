"""The local extractor's parts, one module per kind of insight; :mod:`docproc_local.standins.extractor` joins them."""
