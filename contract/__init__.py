"""The shared contract: what serving, training and drift monitoring must agree on.

* :mod:`contract.schema`: the 121-field input schema (``SK_ID_CURR`` + 120 applicant fields);
* :mod:`contract.capture_format`: the inference-capture record format;
* :mod:`contract.bundle`: the model bundle's file names and model-card keys;
* :mod:`contract.graph`: the names and constants the exported graph and serving share;
* :mod:`contract.env`: readers of settings from the environment.

Pure Python + numpy: it ships in the scoring function's zip and in the drift image, and
imports nothing from ``scoring``, ``training`` or ``drift``.
"""
