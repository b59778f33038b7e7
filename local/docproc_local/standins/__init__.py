"""Local stand-ins for Amazon Bedrock Runtime and SageMaker Runtime (local mode only, never shipped to Lambda).

:class:`~docproc_local.standins.server.StandinServer` serves both APIs on one port; boto3 clients reach it through
``AWS_ENDPOINT_URL_BEDROCK_RUNTIME`` / ``AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME``.
:func:`~docproc_local.standins.extractor.extract_insights` is the deterministic extractor behind ``Converse``.
"""

from docproc_local.standins.extractor import extract_insights
from docproc_local.standins.faults import FaultConfig
from docproc_local.standins.server import StandinServer

__all__ = ["FaultConfig", "StandinServer", "extract_insights"]
