"""A small mutation harness for the DataSecurity rule functions (run by hand, not part of the suite).

mutmut skips decorated functions, and every rule is a `@rule(...)`-decorated function, so this
harness mutates them itself. For each rule function body it makes one change at a time:

- a comparison operator flipped (`<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`, `in` <-> `not in`,
  `is` <-> `is not`),
- a boolean operator flipped (`and` <-> `or`),
- a numeric constant moved by one (`n` -> `n + 1`),

compiles the mutated function against its module's globals, installs it as the rule's `check`
(the `Rule` object every test and `ALL_RULES` share) and runs the rule tests in-process, the
rule module's own test module first, stopping at the first failure (`pytest -x` semantics, with
a per-mutant timeout). A mutant no test kills is a survivor: a condition of the rule that no
test pins.

    python -m benchmarks.rule_mutants                     # every rule module
    python -m benchmarks.rule_mutants backup dr           # some modules
    python -m benchmarks.rule_mutants --tests tests/policies/test_rules_backup.py backup
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import signal
import sys
import time
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
RULES_DIR = REPO / "policies" / "rules"
DEFAULT_TESTS = sorted(str(p.relative_to(REPO)) for p in (REPO / "tests" / "policies").glob("test_rules_*.py"))
TIMEOUT_SECONDS = 20

COMPARE_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
SYMBOL = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.And: "and",
    ast.Or: "or",
}


# Mutants reviewed as equivalent (no input can tell them from the rule), with the reason:
# (module, function, a fragment of the mutated source line, mutation) -> why.
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    ("iam", "no_wildcard_admin", "rsplit(", "1 -> 2"): "rsplit('/', 2)[-1] is the same last segment",
    ("iam", "auditor_read_only", "rsplit(", "1 -> 2"): "rsplit('/', 2)[-1] is the same last segment",
    ("iam", "web_role_no_backup_access", "rsplit(", "1 -> 2"): "rsplit('/', 2)[-1] is the same last segment",
    ("iam", "auditor_read_only", 'split(":", 1)', "1 -> 2"): "an IAM action has one colon",
    ("generic", "no_plaintext_secrets", '"Fn::Join" in value', "in -> not in"): (
        "dead branch: _secret_values recurses into dicts, so a secret value is never a dict"
    ),
    ("generic", "no_plaintext_secrets", '"{{resolve:" not in text', "not in -> in"): (
        "dead branch: _secret_values recurses into dicts, so a secret value is never a dict"
    ),
    ("backup", "database_hourly", "(_delete_after(r) or 0) >= twice_min", "0 -> 1"): (
        "a rule kept forever reads as 0 or 1 days: both below the 7-day BAK-1 minimum, never counted"
    ),
    ("backup", "database_daily", "(_delete_after(r) or 0) >= minimum", "0 -> 1"): (
        "a rule kept forever reads as 0 or 1 days: both below the 30-day BAK-3 minimum, never counted"
    ),
    ("backup", "monthly_archive", "(_delete_after(plan_rule) or 0) >= minimum", "0 -> 1"): (
        "a rule kept forever reads as 0 or 1 days: both below the 365-day BAK-4 minimum, never counted"
    ),
    ("cognito", "user_pool_password_policy", 'policy.get("MinimumLength", 0)', "0 -> 1"): (
        "an unset MinimumLength reads as 0 or 1: both below PASSWORD_MIN_LENGTH, same finding"
    ),
}


@dataclass(frozen=True)
class Mutant:
    module: str  # "backup"
    function: str  # "database_hourly"
    index: int  # the n-th mutation point of the function (ast.walk order)
    sub: int  # which operator of a chained comparison
    line: int
    description: str
    source: str = ""  # the mutated line, stripped

    @property
    def equivalent(self) -> str | None:
        """Why this mutant is a reviewed equivalent, else None."""
        for (module, function, fragment, description), why in EQUIVALENT.items():
            same = (module, function, description) == (self.module, self.function, self.description)
            if same and fragment in self.source:
                return why
        return None

    def __str__(self) -> str:
        return f"policies/rules/{self.module}.py:{self.line} {self.function}: {self.description}"


def _is_rule_function(node: ast.AST) -> bool:
    if not isinstance(node, ast.FunctionDef):
        return False
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Name) and d.func.id == "rule" for d in node.decorator_list
    )


def _points(function: ast.FunctionDef) -> Iterator[tuple[ast.AST, int, str]]:
    """Every mutation point in the function body: (node, sub-index, description)."""
    for statement in function.body:
        for node in ast.walk(statement):
            if isinstance(node, ast.Compare):
                for sub, op in enumerate(node.ops):
                    new = COMPARE_FLIPS[type(op)]
                    yield node, sub, f"{SYMBOL[type(op)]} -> {SYMBOL[new]}"
            elif isinstance(node, ast.BoolOp):
                new_op = ast.Or if isinstance(node.op, ast.And) else ast.And
                yield node, 0, f"{SYMBOL[type(node.op)]} -> {SYMBOL[new_op]}"
            elif (
                isinstance(node, ast.Constant)
                and isinstance(node.value, int | float)
                and not isinstance(node.value, bool)
            ):
                yield node, 0, f"{node.value!r} -> {node.value + 1!r}"


def _rule_functions(module: str) -> list[ast.FunctionDef]:
    tree = ast.parse((RULES_DIR / f"{module}.py").read_text())
    return [n for n in tree.body if _is_rule_function(n) and isinstance(n, ast.FunctionDef)]


def mutants(module: str) -> list[Mutant]:
    lines = (RULES_DIR / f"{module}.py").read_text().splitlines()
    found: list[Mutant] = []
    for function in _rule_functions(module):
        for index, (node, sub, description) in enumerate(_points(function)):
            line = getattr(node, "lineno", 0)
            source = lines[line - 1].strip() if line else ""
            found.append(Mutant(module, function.name, index, sub, line, description, source))
    return found


def _mutated_function(mutant: Mutant) -> ast.FunctionDef:
    function = next(f for f in _rule_functions(mutant.module) if f.name == mutant.function)
    function = copy.deepcopy(function)
    node, sub, _ = list(_points(function))[mutant.index]
    if isinstance(node, ast.Compare):
        node.ops[sub] = COMPARE_FLIPS[type(node.ops[sub])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        node.value = node.value + 1
    function.decorator_list = []
    return function


def install(mutant: Mutant) -> tuple[Any, Any]:
    """Compile the mutated function against its module's globals and make it the rule's check."""
    module = importlib.import_module(f"policies.rules.{mutant.module}")
    tree = ast.fix_missing_locations(ast.Module(body=[_mutated_function(mutant)], type_ignores=[]))
    code = compile(
        tree,
        str(RULES_DIR / f"{mutant.module}.py"),
        "exec",
        flags=annotations.compiler_flag,
        dont_inherit=True,
    )
    function_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    function = types.FunctionType(function_code, module.__dict__, mutant.function)
    rule = getattr(module, mutant.function)
    original = rule.check
    object.__setattr__(rule, "check", function)
    return rule, original


class _TimeoutError(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _TimeoutError


class Harness:
    """A pytest plugin: collect the rule tests once, then run them against every mutant."""

    def __init__(self, chosen: list[Mutant]) -> None:
        self.mutants = chosen
        self.survivors: list[Mutant] = []
        self.equivalents: list[Mutant] = []
        self.killed = 0
        self.baseline_ok = True

    def _run(self, items: list[pytest.Item]) -> str | None:
        """The first failing test's id, or None when every test passes."""
        from _pytest.runner import runtestprotocol

        for item in items:
            reports = runtestprotocol(item, nextitem=None, log=False)
            if any(r.failed for r in reports):
                return item.nodeid
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> bool:
        items = list(session.items)
        if session.testsfailed:
            print("collection errors: fix the tests first", file=sys.stderr)
            self.baseline_ok = False
            return True
        failing = self._run(items)
        if failing is not None:
            print(f"baseline fails ({failing}): fix the tests first", file=sys.stderr)
            self.baseline_ok = False
            return True
        signal.signal(signal.SIGALRM, _alarm)
        for number, mutant in enumerate(self.mutants, 1):
            own = [i for i in items if Path(str(i.path)).name == f"test_rules_{mutant.module}.py"]
            ordered = own + [i for i in items if i not in own]
            rule, original = install(mutant)
            signal.alarm(TIMEOUT_SECONDS)
            try:
                killer: str | None = self._run(ordered)
            except _TimeoutError:
                killer = "timeout"
            finally:
                signal.alarm(0)
                object.__setattr__(rule, "check", original)
            if killer is None and mutant.equivalent:
                self.equivalents.append(mutant)
                print(f"[{number}/{len(self.mutants)}] equivalent {mutant} ({mutant.equivalent})", flush=True)
            elif killer is None:
                self.survivors.append(mutant)
                print(f"[{number}/{len(self.mutants)}] SURVIVED {mutant}", flush=True)
            else:
                self.killed += 1
        return True


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help="rule modules (default: all)")
    parser.add_argument("--tests", action="append", help="test paths (default: tests/policies/test_rules_*.py)")
    args = parser.parse_args(argv)
    modules = args.modules or sorted(
        p.stem for p in RULES_DIR.glob("*.py") if p.stem != "__init__" and _rule_functions(p.stem)
    )
    chosen = [m for module in modules for m in mutants(module)]
    harness = Harness(chosen)
    started = time.monotonic()
    pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", *(args.tests or DEFAULT_TESTS)], plugins=[harness])
    if not harness.baseline_ok:
        return 2
    rules = sum(len(_rule_functions(m)) for m in modules)
    print(
        f"\n{len(chosen)} mutants of {rules} rule functions in {len(modules)} modules: "
        f"{harness.killed} killed, {len(harness.equivalents)} equivalent (reviewed), "
        f"{len(harness.survivors)} survived "
        f"({100 * len(harness.survivors) / max(len(chosen), 1):.1f}%) in {time.monotonic() - started:.0f} s"
    )
    by_module: dict[str, int] = {}
    for survivor in harness.survivors:
        by_module[survivor.module] = by_module.get(survivor.module, 0) + 1
    for module, count in sorted(by_module.items()):
        print(f"  {module}: {count} survivor(s)")
    return 1 if harness.survivors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
