"""Run as `python -S undeclared_imports.py MODULE...`: prints (JSON) the distributions the
modules load that `vitrine[worker]` does not require, directly or through another package."""

import importlib
import json
import re
import sys
from importlib import metadata


def canon(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirements(dist: str, extras: set[str]) -> set[tuple[str, frozenset[str]]]:
    """(distribution, its extras) that `dist` with `extras` requires on Linux."""
    out = set()
    for req in metadata.distribution(dist).requires or []:
        name, _, marker = req.partition(";")
        wanted = re.findall(r"extra == ['\"]([^'\"]+)", marker)
        if wanted and not set(wanted) & extras:
            continue
        if "sys_platform" in marker and "linux" not in marker and "win32" in marker:
            continue
        base = re.split(r"[\s<>=!~\[(;]", name.strip(), maxsplit=1)[0]
        extra = re.findall(r"\[([^\]]+)\]", name)
        out.add((canon(base), frozenset(x.strip() for e in extra for x in e.split(","))))
    return out


def declared_closure() -> set[str]:
    seen, todo = set(), [("vitrine", frozenset({"worker"}))]
    while todo:
        dist, extras = todo.pop()
        if (dist, extras) in seen:
            continue
        seen.add((dist, extras))
        try:
            todo.extend(requirements(dist, set(extras)))
        except metadata.PackageNotFoundError:
            pass
    return {dist for dist, _ in seen}


def main(modules: list[str]) -> None:
    for name in modules:
        importlib.import_module(name)
    tops = {m.split(".")[0] for m in sys.modules}
    by_top = metadata.packages_distributions()
    loaded = {canon(d) for top in tops for d in by_top.get(top, [])}
    print(json.dumps(sorted(loaded - declared_closure())))


if __name__ == "__main__":
    main(sys.argv[1:])
