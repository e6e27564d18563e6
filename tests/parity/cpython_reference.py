"""Runs the parity cases in CPython the way the codemode sandbox runs a snippet.

Usage: python3 tests/parity/cpython_reference.py [--cases DIR] [--only SUBSTRING]

Writes one JSON object per case to stdout, in file then case order:

    {"id": "builtins/round_half_even", "source": "...", "ok": true,
     "result": 2, "printed": "", "error": null}

`error` is `{"type": "KeyError", "message": "'x'"}` when the snippet raised. The Rust
runner (plugin/engine/tests/parity.rs) takes the source from here, runs it in the sandbox
engine and compares `ok`, `result`, `printed` and `error`.

The snippet model mirrored here:
- fresh globals per case (`__name__ == "__main__"`);
- `print` output (stdout and stderr, interleaved) is captured;
- the answer is the global `result` if the snippet assigned it, else the value of a final
  expression statement, else null;
- top-level `await` is allowed (compiled with `ast.PyCF_ALLOW_TOP_LEVEL_AWAIT` and run in a
  new event loop);
- the answer becomes JSON by the sandbox's result policy (see `to_json`).

Case files: `cases/<topic>.py`. A line `# == <name>` starts a case named `<topic>/<name>`;
the lines up to the next such line are its snippet. Text before the first marker is the
file's description.
"""

import argparse
import ast
import asyncio
import contextlib
import datetime
import decimal
import io
import json
import math
import pathlib
import re
import signal
import sys

CASE_MARKER = re.compile(r"^# == ([A-Za-z0-9_]+)\s*$")
LAST_VALUE = "__cm_last__"
MAX_DEPTH = 64
I64_MIN = -(2**63)
U64_MAX = 2**64 - 1
CASE_SECONDS = 10


class CaseTimeout(BaseException):
    """A case ran longer than CASE_SECONDS."""


def read_cases(directory, only=None):
    """Yields (case id, source) for every case under `directory`, sorted by file name."""
    seen = set()
    for path in sorted(pathlib.Path(directory).glob("*.py")):
        topic = path.stem
        name, lines = None, []
        for line in path.read_text(encoding="utf-8").splitlines():
            marker = CASE_MARKER.match(line)
            if marker:
                if name is not None:
                    yield from emit(topic, name, lines, seen, only)
                name, lines = marker.group(1), []
            elif name is not None:
                lines.append(line)
        if name is not None:
            yield from emit(topic, name, lines, seen, only)


def emit(topic, name, lines, seen, only):
    case_id = f"{topic}/{name}"
    if case_id in seen:
        raise SystemExit(f"duplicate case id {case_id}")
    seen.add(case_id)
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise SystemExit(f"case {case_id} has no code")
    if only is None or only in case_id:
        yield case_id, "\n".join(lines) + "\n"


# --- The sandbox's result policy (plugin/engine/src/engine/convert.rs, Direction::Result,
# and `_convert_other` in plugin/engine/src/python/_codemode.py) ---


def to_json(obj, depth=0):
    """The JSON value the sandbox reports for the answer `obj`."""
    if depth > MAX_DEPTH:
        return "… [nested too deep or too large]"
    if obj is None:
        return None
    if type(obj) is bool:
        return obj
    if isinstance(obj, int):
        value = int(obj)
        return value if I64_MIN <= value <= U64_MAX else str(value)
    if isinstance(obj, float):
        value = float(obj)
        if math.isfinite(value):
            return value
        if math.isnan(value):
            return "NaN"
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, (list, tuple)):
        return [to_json(item, depth + 1) for item in obj]
    if isinstance(obj, dict):
        return {json_key(key): to_json(value, depth + 1) for key, value in obj.items()}
    converted = convert_other(obj)
    if converted is obj:
        return repr(obj)
    return to_json(converted, depth + 1)


def json_key(key):
    """A dict key as the sandbox writes it."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is None:
        return "null"
    if type(key) is bool:
        return "true" if key else "false"
    if isinstance(key, (int, float)):
        return str(key)
    return repr(key)


def convert_other(obj):
    """A JSON-able stand-in for a non-JSON answer, or `obj` itself (then its repr is used)."""
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (set, frozenset)):
        items = list(obj)
        with contextlib.suppress(TypeError):
            items.sort()
        return items
    if isinstance(obj, (bytes, bytearray)):
        return obj.decode("utf-8", "replace")
    if type(obj).__name__ in ("Decimal", "Fraction"):
        return float(obj)
    return obj


# --- Running one snippet ---


def compile_snippet(source):
    """Compiles `source`; a final expression statement's value goes to LAST_VALUE."""
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    tree = compile(source, "<snippet>", "exec", flags=flags | ast.PyCF_ONLY_AST)
    captures = False
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body[-1]
        if not isinstance(last.value, (ast.Starred, ast.Yield, ast.YieldFrom)):
            assign = ast.Assign(targets=[ast.Name(LAST_VALUE, ast.Store())], value=last.value)
            tree.body[-1] = ast.copy_location(assign, last)
            ast.fix_missing_locations(tree)
            captures = True
    code = compile(tree, "<snippet>", "exec", flags=flags)
    return code, captures


def run_case(source):
    """Runs one snippet; returns its outcome as the runner compares it."""
    printed = io.StringIO()
    # The sandbox gives each run a fresh interpreter state for these; CPython's is per process.
    decimal.setcontext(decimal.Context())
    scope = {"__name__": "__main__", "__doc__": None}
    outcome = {"ok": False, "result": None, "printed": "", "error": None}
    try:
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            code, captures = compile_snippet(source)
            pending = eval(code, scope)  # noqa: S307 - the point of this script
            if asyncio.iscoroutine(pending):
                asyncio.run(pending)
        if "result" in scope:
            answer = scope["result"]
        else:
            answer = scope.get(LAST_VALUE) if captures else None
        outcome["result"] = to_json(answer)
        outcome["ok"] = True
    except CaseTimeout:
        outcome["error"] = {"type": "CaseTimeout", "message": f"over {CASE_SECONDS} s in CPython"}
    except BaseException as error:  # noqa: BLE001 - every snippet failure is an outcome
        outcome["error"] = {"type": type(error).__name__, "message": message_of(error)}
    outcome["printed"] = printed.getvalue()
    return outcome


def message_of(error):
    """The exception's message as CPython shows it: `str(error)`, plus the "Did you mean"
    hint that CPython 3.11 adds to `NameError` and `AttributeError` when it prints them
    (the hint is not part of `str(error)`, so it is read back from the printed traceback)."""
    message = str(error)
    if message and isinstance(error, (NameError, AttributeError)):
        shown = io.StringIO()
        with contextlib.redirect_stderr(shown):
            sys.__excepthook__(type(error), error, error.__traceback__)
        prefix = f"{type(error).__name__}: "
        for line in shown.getvalue().splitlines():
            if line.startswith(prefix + message):
                message = line[len(prefix) :]
    return message


def on_alarm(_signum, _frame):
    raise CaseTimeout


def main():
    here = pathlib.Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=str(here / "cases"), help="case folder")
    parser.add_argument("--only", help="run only case ids containing this text")
    args = parser.parse_args()
    signal.signal(signal.SIGALRM, on_alarm)
    out = sys.stdout
    for case_id, source in read_cases(args.cases, args.only):
        signal.alarm(CASE_SECONDS)
        try:
            outcome = run_case(source)
        finally:
            signal.alarm(0)
        line = {"id": case_id, "source": source, **outcome}
        out.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
