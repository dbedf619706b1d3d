#!/usr/bin/env python3
"""Holds the code to the sizes that keep it readable (called by scripts/test.sh).

Production code is the library (shared/src) and the function crates (functions/*/src), each
file up to its first top-level `#[cfg(test)]` (unit tests come last in a file). It fails when
  - a production function is longer than 60 lines,
  - a production file is longer than 600 lines,
  - a type has more than 25 public methods (inherent `impl` blocks of one crate, summed),
  - a function crate's lib.rs is longer than 250 lines,
  - README.md is longer than 200 lines,
  - a code comment cites an issue number (issues are not in the repository: a comment gives
    the lasting reason instead).
Usage: structure_check.py [--report]  (--report prints the largest of each measure too).
Python standard library only.
"""

import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_FN_LINES = 60
MAX_FILE_LINES = 600
MAX_PUB_METHODS = 25
MAX_FUNCTION_LIB_LINES = 250
MAX_README_LINES = 200

FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(\w+)")
IMPL = re.compile(r"^\s*impl(?:<[^{]*?>)?\s+([\w:]+)(?:<[^{]*>)?\s*(?:where[^{]*)?\{\s*$")
PUB_FN = re.compile(r"^\s*pub\s+(?:const\s+)?(?:async\s+)?fn\s+\w+")
ISSUE = re.compile(r"\bissues?\s+#?\d+|\(#\d+\)|\bissue\s*#\d+", re.IGNORECASE)
COMMENT = {
    ".rs": re.compile(r"//(.*)$"),
    ".mjs": re.compile(r"//(.*)$"),
    ".js": re.compile(r"//(.*)$"),
    ".ts": re.compile(r"//(.*)$"),
    ".sh": re.compile(r"(?:^|\s)#(.*)$"),
    ".py": re.compile(r"(?:^|\s)#(.*)$"),
    ".toml": re.compile(r"(?:^|\s)#(.*)$"),
    ".yaml": re.compile(r"(?:^|\s)#(.*)$"),
    ".yml": re.compile(r"(?:^|\s)#(.*)$"),
}
SKIP_DIRS = {"target", "node_modules", ".git", ".tools", "artifacts", ".aws-sam", "dist", "__pycache__"}


def production_lines(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines):
        if line.startswith("#[cfg(test)]"):
            return lines[:number]
    return lines


def code_only(line):
    """The line without string and char literals and without its comment, for brace counting."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(?:\\.|[^'\\])'", "''", line)
    return line.split("//", 1)[0]


def block_end(lines, start):
    """The index of the line closing the block opened at or after `start` (None if bodiless)."""
    depth, opened = 0, False
    for index in range(start, len(lines)):
        code = code_only(lines[index])
        if not opened and ";" in code and "{" not in code:
            return None
        for char in code:
            if char == "{":
                depth, opened = depth + 1, True
            elif char == "}":
                depth -= 1
                if opened and depth == 0:
                    return index
    return None


def production_files():
    files = sorted((ROOT / "shared" / "src").rglob("*.rs"))
    for crate in sorted((ROOT / "functions").iterdir()):
        files += sorted((crate / "src").rglob("*.rs"))
    return files


def measure():
    failures, report = [], defaultdict(list)
    pub_methods = defaultdict(int)
    for path in production_files():
        rel = path.relative_to(ROOT)
        lines = production_lines(path)
        report["file"].append((len(lines), str(rel)))
        if len(lines) > MAX_FILE_LINES:
            failures.append(f"{rel}: {len(lines)} lines of production code (at most {MAX_FILE_LINES})")
        if rel.parts[0] == "functions" and rel.name == "lib.rs" and len(lines) > MAX_FUNCTION_LIB_LINES:
            failures.append(f"{rel}: {len(lines)} lines (a function crate's lib.rs: at most {MAX_FUNCTION_LIB_LINES})")
        crate = rel.parts[1] if rel.parts[0] == "functions" else "shared"
        for index, line in enumerate(lines):
            found = FN.match(line)
            if found:
                end = block_end(lines, index)
                if end is not None:
                    length = end - index + 1
                    report["fn"].append((length, f"{rel}:{index + 1} {found.group(1)}"))
                    if length > MAX_FN_LINES:
                        failures.append(
                            f"{rel}:{index + 1}: fn {found.group(1)} is {length} lines (at most {MAX_FN_LINES})"
                        )
            found = IMPL.match(line)
            if found and " for " not in line:
                end = block_end(lines, index)
                type_name = found.group(1).split("::")[-1]
                depth_one = re.match(r"^(\s*)", line).group(1) + "    "
                for inner in lines[index + 1 : (end or index) + 1]:
                    if inner.startswith(depth_one) and not inner.startswith(depth_one + " "):
                        if PUB_FN.match(inner):
                            pub_methods[(crate, type_name)] += 1
    for (crate, type_name), count in pub_methods.items():
        report["pub"].append((count, f"{crate}::{type_name}"))
        if count > MAX_PUB_METHODS:
            failures.append(f"{crate}: type {type_name} has {count} public methods (at most {MAX_PUB_METHODS})")
    readme = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    report["readme"].append((readme, "README.md"))
    if readme > MAX_README_LINES:
        failures.append(f"README.md: {readme} lines (at most {MAX_README_LINES})")
    failures += issue_numbers()
    return failures, report


def issue_numbers():
    found = []
    for path in sorted(ROOT.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(ROOT).parts):
            continue
        if path.name == "structure_check.py":
            continue
        comment = COMMENT.get(path.suffix)
        if comment is None and path.name not in ("Makefile", "Dockerfile"):
            continue
        comment = comment or COMMENT[".sh"]
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            match = comment.search(line)
            if match and ISSUE.search(match.group(1)):
                found.append(f"{path.relative_to(ROOT)}:{number}: a comment cites an issue number")
    return found


def main(argv):
    failures, report = measure()
    if "--report" in argv:
        for name, rows in report.items():
            print(f"largest ({name}):")
            for value, where in sorted(rows, reverse=True)[:8]:
                print(f"  {value:5}  {where}")
    for failure in failures:
        print(f"structure: {failure}", file=sys.stderr)
    if failures:
        print(f"structure: {len(failures)} problem(s)", file=sys.stderr)
        return 1
    print("structure: ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
