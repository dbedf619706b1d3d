#!/usr/bin/env bash
# Lists the dependencies of the library (shared/src) and fails on any cycle, at two levels:
#   - between its top-level modules (`crate::<module>` paths), so that the layers only point
#     down (leaves -> domain -> store -> services -> http edge -> app -> functions);
#   - between its files: `crate::a::b`, `super::x` (a sibling file, or the parent module's own
#     file for an item it defines) and a parent's paths into its child modules (`child::X`).
# Production code only: a file up to its first `#[cfg(test)]`, comment lines skipped.
# `--files` prints the file-level edges too.
set -euo pipefail
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/shared/src"
exec python3 - "$src" "$@" <<'PY'
import re
import sys
from pathlib import Path

src = Path(sys.argv[1])
show_files = "--files" in sys.argv[2:]


def production(path):
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#[cfg(test)]"):
            break
        if line.lstrip().startswith("//"):
            continue
        lines.append(line)
    return "\n".join(lines)


def module_path(path):
    """The module path of a file: lib.rs -> (), a.rs or a/mod.rs -> ("a",), a/b.rs -> ("a", "b")."""
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("lib", "mod"):
        parts = parts[:-1]
    return tuple(parts)


files = {module_path(p): p for p in sorted(src.rglob("*.rs"))}


def resolve(path):
    """The file of the longest prefix of `path` that is a module."""
    for end in range(len(path), -1, -1):
        if path[:end] in files:
            return path[:end]
    return ()


def names(group):
    """The first segment of each path of a `{...}` group (nested groups flattened)."""
    return [n for n in re.findall(r"(?:^|[{,])\s*([a-z_][a-z0-9_]*)\s*(?:::|[,}]|$)", group)]


file_edges, module_edges = set(), set()
for module, path in files.items():
    text = production(path)
    targets = set()
    for found in re.finditer(r"\bcrate::((?:[a-z_][a-z0-9_]*::)*[a-z_][a-z0-9_]*)", text):
        targets.add(resolve(tuple(found.group(1).split("::"))))
    # super:: is relative to the module's parent (a mod.rs/lib.rs file is its module).
    parent = module[:-1]
    for found in re.finditer(r"\bsuper::(\{[^}]*\}|[a-z_][a-z0-9_]*)", text):
        first = found.group(1)
        for name in names(first) if first.startswith("{") else [first]:
            targets.add(resolve(parent + (name,)))
        if first.startswith("{") and re.search(r"[{,]\s*[A-Z]", first):
            targets.add(resolve(parent))
    for found in re.finditer(r"\bsuper::[A-Z]", text):
        targets.add(resolve(parent))
    # A parent's own code using its child modules. Its `pub use child::...` re-exports are
    # the module's interface to the rest of the crate, not a use by the parent's code: a
    # child may still use what the parent itself defines.
    body = re.sub(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:mod\s+\w+\s*;|use\s+[^;]*;)", "", text, flags=re.M | re.S)
    private_uses = re.findall(r"^\s*use\s+([^;]*);", text, flags=re.M | re.S)
    for child in re.findall(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;", text, re.M):
        used_privately = any(u.strip().startswith(child + "::") for u in private_uses)
        reexported = [
            name
            for used in re.findall(r"^\s*pub(?:\([^)]*\))?\s+use\s+" + child + r"::([^;]*);", text, flags=re.M | re.S)
            for name in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", used)
        ]
        # ... unless the parent's code uses an item of the child through its own re-export.
        uses_reexport = any(re.search(r"\b" + name + r"\b", body) for name in reexported)
        if used_privately or uses_reexport or re.search(r"(?<![:\w])" + child + r"::", body):
            targets.add(module + (child,))
    for target in targets:
        if target != module and target in files:
            file_edges.add((module, target))
            if module and target and module[0] != target[0]:
                module_edges.add((module[0], target[0]))


def cycles(edges):
    graph = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
    found, state = [], {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    return found


label = lambda m: "::".join(m) or "lib"
for a, b in sorted(module_edges):
    print(f"{a} -> {b}")
if show_files:
    for a, b in sorted(file_edges):
        print(f"  {label(a)} -> {label(b)}")
failed = False
for kind, edges in (("modules", module_edges), ("files", file_edges)):
    for cycle in cycles(edges):
        failed = True
        print(f"module-deps: a cycle between {kind}: " + " -> ".join(label(m) for m in cycle), file=sys.stderr)
if failed:
    sys.exit(1)
print(f"module-deps: 0 cycles ({len(module_edges)} module and {len(file_edges)} file dependencies)", file=sys.stderr)
PY
