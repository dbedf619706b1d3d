#!/usr/bin/env bash
# A real OAuth2 client library (authlib, pinned) does the password grant against the form login
# of a running local stack: TASKLINE_BASE_URL (default http://127.0.0.1:9000). authlib and
# pytest are installed by this script into .tools/oauth-venv (or OAUTH_VENV).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
venv="${OAUTH_VENV:-$root/.tools/oauth-venv}"
packages=("authlib==1.6.5" "requests==2.32.5" "pytest==8.4.2")
stamp="$venv/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${packages[*]}" ]; then
  echo "test-oauth-client: installing ${packages[*]} into ${venv#"$root"/}" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  PIP_DISABLE_PIP_VERSION_CHECK=1 "$venv/bin/pip" install --quiet "${packages[@]}"
  echo "${packages[*]}" > "$stamp"
fi
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider devtools/oauth
