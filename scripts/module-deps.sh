#!/usr/bin/env bash
# Lists the dependencies between the top-level modules of shared/src (`crate::<module>` in
# production code, i.e. before a file's `#[cfg(test)]`) and fails on any cycle: the layers
# only point down (domain -> store -> http edge -> functions).
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/shared/src"
edges=$(
  for path in "$src"/*.rs "$src"/*/; do
    module=$(basename "$path" .rs)
    [ "$module" = lib ] && continue
    find "$path" -name '*.rs' -print0 | xargs -0 awk '/^#\[cfg\(test\)\]/ { nextfile } /^[[:space:]]*\/\// { next } { print }' |
      grep -o 'crate::[a-z_]*' | sed 's/crate:://' | sort -u |
      while read -r target; do
        if [ "$target" != "$module" ] && { [ -f "$src/$target.rs" ] || [ -d "$src/$target" ]; }; then
          echo "$module $target"
        fi
      done
  done | sort -u
)
echo "$edges" | sed 's/ / -> /'
if ! echo "$edges" | tsort >/dev/null 2>/tmp/module-deps.$$; then
  cat /tmp/module-deps.$$ >&2
  rm -f /tmp/module-deps.$$
  echo "module-deps: cycles between the modules of shared/src" >&2
  exit 1
fi
rm -f /tmp/module-deps.$$
echo "module-deps: 0 cycles" >&2
