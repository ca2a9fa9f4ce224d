# The book batch function (template.yaml BatchFunction, PackageType: Image): one shard of a
# book per invocation, for the BookStateMachine's Distributed Map (docs/portfolio-scoring.md).
# Build context: the repository root (Metadata: DockerContext ".", Dockerfile
# "infra/batch.Dockerfile"), e.g. `sam build BatchFunction` or
#   docker build -f infra/batch.Dockerfile -t credit-scoring-batch .
#
# Why an image: requirements-batch.txt (the scoring runtime + pyarrow) installs to more
# than Lambda's 250 MB unzipped limit for a zip package (measured size:
# docs/portfolio-scoring.md, "Container image").
#
# checkov:skip=CKV_DOCKER_2: Lambda invokes the function through the runtime interface client; a HEALTHCHECK is never run.
# checkov:skip=CKV_DOCKER_3: Lambda runs the image as its own unprivileged user, whatever USER says.
FROM public.ecr.aws/lambda/python:3.12

ENV HOME=/tmp \
    OPENBLAS_NUM_THREADS=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

COPY requirements-fn.txt requirements-batch.txt ${LAMBDA_TASK_ROOT}/
RUN pip install --no-cache-dir -r ${LAMBDA_TASK_ROOT}/requirements-batch.txt \
        --target "${LAMBDA_TASK_ROOT}"

# The same code as the scoring function (contract + scoring) and the book reader/writer;
# the packaged bundle for stacks without ModelPrefix (MODEL_DIR defaults to it).
COPY contract/ ${LAMBDA_TASK_ROOT}/contract/
COPY function/scoring/ ${LAMBDA_TASK_ROOT}/scoring/
COPY function/model/ ${LAMBDA_TASK_ROOT}/model/
COPY portfolio/ ${LAMBDA_TASK_ROOT}/portfolio/
RUN cd "${LAMBDA_TASK_ROOT}" && python -m compileall -q contract scoring portfolio \
    && python -c "import portfolio.batch"

CMD ["portfolio.batch.handler"]
