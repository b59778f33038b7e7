"""The embedded local AWS: deploys the real template.yaml into moto and runs it in this process (no Docker)."""

from .deploy import LocalCloudError
from .event_source import InvocationError
from .lambdas import EnvironmentConflict
from .local_cloud import LocalCloud

__all__ = ["EnvironmentConflict", "InvocationError", "LocalCloud", "LocalCloudError"]
