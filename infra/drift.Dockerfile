# The drift-monitoring Lambda (template.yaml DriftFunction, PackageType: Image).
# Build context: the repository root (template Metadata: DockerContext ".",
# Dockerfile "infra/drift.Dockerfile"), e.g. `sam build DriftFunction` or
#   docker build -f infra/drift.Dockerfile -t credit-scoring-drift .
#
# Why an image: Evidently 0.7.23's stack (requirements-drift.txt: evidently, pandas<3, numpy,
# boto3 and their dependencies: plotly, pyarrow, scipy, statsmodels, scikit-learn, ...)
# installs to 1.1 GB (site-packages: 1005 MB on disk, 856 MB apparent; measured with
# python3.12 -m venv + pip install -r requirements-drift.txt), four times Lambda's 250 MB
# unzipped limit for zip packages and layers. Container images may be up to 10 GB.
#
# checkov:skip=CKV_DOCKER_2: Lambda invokes the function through the runtime interface client; a HEALTHCHECK is never run.
# checkov:skip=CKV_DOCKER_3: Lambda runs the image as its own unprivileged user, whatever USER says.
FROM public.ecr.aws/lambda/python:3.12

# No usage telemetry (drift/__init__.py sets the same before Evidently is imported), and any
# library cache goes to /tmp, the only writable path in Lambda.
ENV DO_NOT_TRACK=1 \
    EVIDENTLY_DISABLE_TELEMETRY=1 \
    ITERATIVE_DO_NOT_TRACK=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Dependencies first (their layer is reused while only the code changes). pip compiles the
# bytecode at install time: the task root is read-only at run time.
COPY requirements-drift.txt ${LAMBDA_TASK_ROOT}/
RUN pip install --no-cache-dir -r ${LAMBDA_TASK_ROOT}/requirements-drift.txt \
        --target "${LAMBDA_TASK_ROOT}"

# The shared contract (schema, capture format, environment readers) and the job: no API code.
COPY contract/ ${LAMBDA_TASK_ROOT}/contract/
COPY drift/ ${LAMBDA_TASK_ROOT}/drift/
RUN cd "${LAMBDA_TASK_ROOT}" && python -m compileall -q contract drift \
    && python -c "import drift.handler, drift.report"

CMD ["drift.handler.handler"]
