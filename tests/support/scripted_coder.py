"""A scripted coding agent: it edits files in its working directory as its prompt says.

It stands in for Codex, Claude Code or aider in the tests. The prompt (a file named by the
first argument) may hold any text; the lines starting with ``@`` are its orders:

- ``@write PATH: TEXT`` writes ``TEXT`` and a newline to ``PATH`` (folders made as needed);
- ``@append PATH: TEXT`` appends ``TEXT`` and a newline;
- ``@line PATH N: TEXT`` replaces line ``N`` (from 1) of ``PATH``;
- ``@delete PATH`` removes ``PATH``;
- ``@sleep SECONDS`` waits;
- ``@fail MESSAGE`` prints ``MESSAGE`` to stderr and exits 3.

It prints what it did, one line per order, and the approval mode it was given (``--mode``).
"""

import pathlib
import sys
import time


def main() -> int:
    prompt = pathlib.Path(sys.argv[1]).read_text(encoding="utf-8")
    mode = sys.argv[sys.argv.index("--mode") + 1] if "--mode" in sys.argv else "?"
    print(f"scripted coder in {mode} mode")
    for line in prompt.splitlines():
        if not line.startswith("@"):
            continue
        order, _, rest = line[1:].partition(" ")
        if order == "sleep":
            time.sleep(float(rest))
        elif order == "fail":
            print(rest, file=sys.stderr)
            return 3
        elif order == "delete":
            pathlib.Path(rest.strip()).unlink()
        else:
            target, _, text = rest.partition(": ")
            do(order, target, text)
        print(f"did {line}")
    return 0


def do(order: str, target: str, text: str) -> None:
    if order == "line":
        name, number = target.rsplit(" ", 1)
        path = pathlib.Path(name)
        lines = path.read_text(encoding="utf-8").splitlines()
        lines[int(number) - 1] = text
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    path = pathlib.Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    if order == "write":
        path.write_text(text + "\n", encoding="utf-8")
    elif order == "append":
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        raise SystemExit(f"unknown order @{order}")


if __name__ == "__main__":
    sys.exit(main())
