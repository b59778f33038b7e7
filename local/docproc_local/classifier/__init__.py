"""docproc's domain classifier: a scikit-learn model shipped as a SageMaker ``model.tar.gz``.

``classifier/corpus`` is the training data, ``classifier/code/inference.py`` the serving code inside the artifact;
this package trains (:mod:`.train`), builds and serves the artifact (:mod:`.artifact`), evaluates (:mod:`.evaluate`),
benchmarks (:mod:`.bench`) and publishes it (:mod:`.publish`).
"""
