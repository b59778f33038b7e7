"""docproc domain package: everything the Lambda functions share. Ships in the DomainLayer; no local-mode code."""

__version__ = "0.1.0"
