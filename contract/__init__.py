"""The shared contract: what serving, training and drift monitoring must agree on.

* :mod:`contract.schema`: the 121-field input schema (``SK_ID_CURR`` + 120 applicant fields);
* :mod:`contract.capture_format`: the inference-capture record format;
* :mod:`contract.bundle`: the model bundle's file names, model-card keys and upload plan;
* :mod:`contract.graph`: the names and constants the exported graph and serving share;
* :mod:`contract.explain`: field groups, plain-language labels and statement templates;
* :mod:`contract.reasons`: reasons from TreeSHAP contributions (fields, groups, statements);
* :mod:`contract.env`: readers of settings from the environment;
* :mod:`contract.aws`: structural types of the S3 client and the Lambda context;
* :mod:`contract.aws_errors`: AWS set-up problems (no region, no credentials) as sentences;
* :mod:`contract.logs`: the JSON log lines every Lambda writes.

Pure Python + numpy: it ships in the scoring function's zip and in the drift image, and
imports nothing from ``scoring``, ``training`` or ``drift``.
"""
