"""``docproc classifier publish``: upload ``model.tar.gz`` to S3 and print the stack's parameter override.

The key holds the artifact's content hash (``classifier/model-<sha256[:16]>.tar.gz``), so a new model is a new
URI: CloudFormation then replaces the SageMaker model and endpoint config and updates the endpoint in place, and
the previous artifact stays readable for a rollback. ``--stack-name`` uploads into the stack's artifacts bucket
(its ``ArtifactsBucketName`` output); ``--bucket`` into any bucket the SageMaker role of the stack may read
(the template grants exactly the published object).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

KEY_PREFIX = "classifier/"


def artifact_key(artifact: Path) -> str:
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()[:16]
    return f"{KEY_PREFIX}model-{digest}.tar.gz"


def stack_bucket(cloudformation: Any, stack_name: str) -> str:
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "ArtifactsBucketName" not in outputs:
        raise RuntimeError(f"stack {stack_name} has no ArtifactsBucketName output; is it a docproc stack?")
    return outputs["ArtifactsBucketName"]


def publish(artifact: Path, *, s3: Any, bucket: str) -> str:
    """Upload (skipped when the same object is already there) and return the ``s3://`` URI."""
    key = artifact_key(artifact)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
        s3.upload_file(str(artifact), bucket, key, ExtraArgs={"ContentType": "application/gzip"})
    return f"s3://{bucket}/{key}"


def override(uri: str) -> str:
    return f"ClassifierModelDataUri={uri}"
