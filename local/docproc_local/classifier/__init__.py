"""Local stand-in for the SageMaker domain classifier: a small model trained in pure Python.

See :mod:`docproc_local.classifier.model` for the model and ``corpus/README.md`` for the training data.
"""

from docproc_local.classifier.model import LABELS, DomainClassifier, default_classifier, load_corpus

__all__ = ["LABELS", "DomainClassifier", "default_classifier", "load_corpus"]
