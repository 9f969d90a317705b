"""Run the FinOps Foundation's focus-validator 2.2.1 on a FOCUS 1.2 file.

Test tooling, not part of costloop: on first use it creates ``.venv-fv`` in the
repository with Python 3.12 (the validator needs ≥ 3.12) and installs the validator
from PyPI, every package pinned by ``requirements/focus-validator.txt`` (``pip freeze``
of that venv; ``--relock`` re-resolves it). It then runs the validator on a file and
parses its console report into passed / failed / skipped rule ids.

The validator's quirks handled here (see docs/conformance.md):

* it opens ``currency_codes.csv`` by a path relative to the working directory, so it
  runs from its ``site-packages`` folder;
* it exits 0 even when rules fail: the result comes from its ``❌ <RuleId>: FAIL``
  lines and the ``Total: … | Pass: … | Fail: … | Skipped: …`` summary, which must agree;
* ``--block-download`` keeps it from fetching rule models from GitHub; it runs under
  ``timeout``.

Usage::

    python3 scripts/focus_validator.py FILE.csv [--json] [--timeout 600]
    python3 scripts/focus_validator.py --install          # install (or check) only
    python3 scripts/focus_validator.py --relock           # re-resolve the lock file

Exit codes: 0 no rule failed, 1 some rules failed, 2 the validator could not run.
Library use: ``validate(path)`` returns a :class:`ValidationResult`.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = [
    "VALIDATOR_VERSION",
    "RuleResult",
    "ValidationResult",
    "ValidatorError",
    "ensure_installed",
    "find_python",
    "parse_output",
    "validate",
]

VALIDATOR_VERSION = "2.2.1"
REQUIREMENTS = (f"focus-validator=={VALIDATOR_VERSION}", "pyarrow<21")
REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-fv"
LOCK_FILE = REPO / "requirements" / "focus-validator.txt"
PYTHON_ENV = "FOCUS_VALIDATOR_PYTHON"
DEFAULT_TIMEOUT = 600

_RESULT_LINE = re.compile(
    r"^(?:✅|❌|⏭️?)\s+(?P<rule>[A-Za-z0-9][\w.-]*):\s+(?P<status>PASS|FAIL|SKIPPED)\b"
    r"\s*(?:\((?P<detail>.*)\))?\s*$"
)
_SUMMARY = re.compile(
    r"^Total:\s*(?P<total>\d+)\s*\|\s*Pass:\s*(?P<passed>\d+)\s*\|\s*"
    r"Fail:\s*(?P<failed>\d+)\s*\|\s*Skipped:\s*(?P<skipped>\d+)\s*$"
)
_VIOLATIONS = re.compile(r"violations=(\d+)")
_CHILDREN = re.compile(r"failed child rules: \[([^\]]*)\]")
_RULE_ID = re.compile(r"^[A-Za-z]+-[A-Z]-\d{3}-[A-Z]$")


class ValidatorError(Exception):
    """The validator could not be installed, did not finish, or printed no report."""


@dataclass(frozen=True)
class RuleResult:
    """One rule line of the report.

    Attributes:
        rule: rule id, e.g. ``BilledCost-C-005-C``.
        status: ``PASS``, ``FAIL`` or ``SKIPPED``.
        violations: the ``violations=`` count the validator printed (0 when absent).
        message: the rest of the line (the validator's message and timing).
        children: for a composite rule that failed because of child rules, their ids.
    """

    rule: str
    status: str
    violations: int = 0
    message: str = ""
    children: tuple[str, ...] = ()


@dataclass
class ValidationResult:
    """Parsed report of one validator run."""

    file: str
    total: int
    rules: list[RuleResult] = field(default_factory=list)
    seconds: float = 0.0

    def _ids(self, status: str) -> list[str]:
        return [r.rule for r in self.rules if r.status == status]

    @property
    def passed(self) -> list[str]:
        """Ids of the rules that passed."""
        return self._ids("PASS")

    @property
    def failed(self) -> list[str]:
        """Ids of the rules that failed."""
        return self._ids("FAIL")

    @property
    def skipped(self) -> list[str]:
        """Ids of the rules the validator skipped (not applicable, or not implemented)."""
        return self._ids("SKIPPED")

    def failure(self, rule: str) -> RuleResult | None:
        """The failed result of ``rule``, or None when it did not fail."""
        return next((r for r in self.rules if r.rule == rule and r.status == "FAIL"), None)

    def unexplained(self, allowed: Iterable[str]) -> list[RuleResult]:
        """Failures not covered by ``allowed`` rule ids.

        A composite rule (``AND failed - failed child rules: [...]``) is covered when
        every failed child is covered, so an allow-list names root causes only.
        """
        ok = set(allowed)
        failed = {r.rule: r for r in self.rules if r.status == "FAIL"}

        def covered(rule: str, seen: frozenset[str]) -> bool:
            if rule in ok:
                return True
            result = failed.get(rule)
            if result is None or not result.children or rule in seen:
                return False
            return all(covered(c, seen | {rule}) for c in result.children)

        return [r for r in failed.values() if not covered(r.rule, frozenset())]

    def summary(self) -> dict[str, int]:
        """Counts in the validator's own summary terms."""
        return {
            "total": self.total,
            "pass": len(self.passed),
            "fail": len(self.failed),
            "skipped": len(self.skipped),
        }

    def to_json(self) -> dict[str, object]:
        """JSON-ready form: counts, rule ids per status, and the failures in detail."""
        return {
            "file": self.file,
            "validator": f"focus-validator {VALIDATOR_VERSION}",
            "seconds": round(self.seconds, 2),
            "counts": self.summary(),
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "failures": [asdict(r) for r in self.rules if r.status == "FAIL"],
        }


def parse_output(text: str, file: str = "") -> ValidationResult:
    """Parse the validator's console report.

    Raises:
        ValidatorError: no summary line, or the rule lines disagree with it.
    """
    rules: dict[str, RuleResult] = {}
    summary: re.Match[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        m = _SUMMARY.match(line)
        if m:
            summary = m
            continue
        m = _RESULT_LINE.match(line)
        if not m:
            continue
        detail = m.group("detail") or ""
        violations = _VIOLATIONS.search(detail)
        children = _CHILDREN.search(detail)
        kids: tuple[str, ...] = ()
        if children:
            kids = tuple(c.strip() for c in children.group(1).split(",") if c.strip())
        message = detail
        if "msg=" in detail:
            message = detail.split("msg=", 1)[1]
        rules[m.group("rule")] = RuleResult(
            rule=m.group("rule"),
            status=m.group("status"),
            violations=int(violations.group(1)) if violations else 0,
            message=message,
            children=tuple(k for k in kids if _RULE_ID.match(k)),
        )
    if summary is None:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise ValidatorError(f"no 'Total: … | Pass: …' summary in the validator output:\n{tail}")
    result = ValidationResult(
        file=file, total=int(summary.group("total")), rules=list(rules.values())
    )
    expected = {
        "pass": int(summary.group("passed")),
        "fail": int(summary.group("failed")),
        "skipped": int(summary.group("skipped")),
    }
    counted = result.summary()
    if any(counted[k] != v for k, v in expected.items()) or len(rules) != result.total:
        raise ValidatorError(
            f"validator summary {expected} (total {result.total}) disagrees with its "
            f"{len(rules)} rule lines {counted}"
        )
    return result


def _runs(python: str) -> bool:
    """Whether ``python`` starts and is Python ≥ 3.12."""
    try:
        proc = subprocess.run(
            [python, "-c", "import sys; sys.exit(sys.version_info < (3, 12))"],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def find_python() -> str | None:
    """A Python ≥ 3.12 interpreter: ``$FOCUS_VALIDATOR_PYTHON``, ``python3.12``, or pyenv's.

    A pyenv shim named ``python3.12`` exists on PATH even when 3.12 is not the active
    pyenv version (and then fails), so pyenv's installed 3.12 versions are tried too.
    """
    candidates: list[str] = []
    if os.environ.get(PYTHON_ENV):
        candidates.append(os.environ[PYTHON_ENV])
    for name in ("python3.12", "python3.13"):
        found = shutil.which(name)
        if found:
            candidates.append(found)
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv")]
    for root in filter(None, roots):
        for version in ("3.12", "3.13"):
            pattern = os.path.join(root, "versions", f"{version}.*", "bin", f"python{version}")
            candidates += sorted(glob.glob(pattern), reverse=True)
    return next((c for c in candidates if _runs(c)), None)


@contextlib.contextmanager
def _install_lock(venv: Path) -> Iterator[None]:
    """Serialize installs (pytest-xdist workers, parallel make targets)."""
    key = hashlib.sha256(str(venv.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"focus-validator-install-{key}.lock"
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_digest(lock_file: Path) -> str:
    data = lock_file.read_bytes() if lock_file.exists() else b""
    return hashlib.sha256(data + "\n".join(REQUIREMENTS).encode()).hexdigest()


def _pip(venv: Path, *args: str) -> None:
    cmd = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    if proc.returncode != 0:
        raise ValidatorError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-4000:]}")


def ensure_installed(
    venv: Path = VENV, lock_file: Path = LOCK_FILE, *, relock: bool = False
) -> Path:
    """Create ``venv`` with the validator if it is missing or its lock file changed.

    With ``relock`` (or no lock file yet) the requirements are resolved afresh and the
    venv's ``pip freeze`` is written to ``lock_file``; otherwise every package is
    installed at the version the lock file pins (``pip install -c``).

    Returns:
        The validator executable.

    Raises:
        ValidatorError: no Python ≥ 3.12, or pip failed.
    """
    stamp = venv / ".installed"
    exe = venv / "bin" / "focus-validator"
    with _install_lock(venv):
        if (
            not relock
            and exe.exists()
            and stamp.exists()
            and stamp.read_text() == _lock_digest(lock_file)
        ):
            return exe
        python = find_python()
        if python is None:
            raise ValidatorError(
                f"focus-validator {VALIDATOR_VERSION} needs Python ≥ 3.12: none found "
                f"(set {PYTHON_ENV} to one)"
            )
        if venv.exists():
            shutil.rmtree(venv)
        proc = subprocess.run(
            [python, "-m", "venv", str(venv)], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise ValidatorError(f"{python} -m venv {venv} failed:\n{proc.stderr}")
        fresh = relock or not lock_file.exists()
        constraints = [] if fresh else ["-c", str(lock_file)]
        _pip(venv, "install", "--quiet", *constraints, *REQUIREMENTS)
        if fresh:
            frozen = subprocess.run(
                [str(venv / "bin" / "python"), "-m", "pip", "freeze", "--all"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            pins = [ln for ln in frozen.splitlines() if ln and not ln.startswith("pip==")]
            lock_file.parent.mkdir(parents=True, exist_ok=True)
            lock_file.write_text(
                f"# pip freeze of .venv-fv (Python 3.12): focus-validator {VALIDATOR_VERSION}\n"
                "# and its dependencies. Regenerate: python3 scripts/focus_validator.py --relock\n"
                + "\n".join(sorted(pins, key=lambda pin: pin.split("==")[0].lower()))
                + "\n"
            )
        stamp.write_text(_lock_digest(lock_file))
        return exe


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3.*/site-packages"))
    if not found:
        raise ValidatorError(f"no site-packages folder in {venv}")
    return found[-1]


def validate(
    data_file: Path,
    *,
    venv: Path = VENV,
    timeout: int = DEFAULT_TIMEOUT,
    applicability_criteria: str | None = None,
) -> ValidationResult:
    """Validate a FOCUS 1.2 CSV or Parquet file; installs the validator if needed.

    Raises:
        ValidatorError: install failed, the run timed out or crashed, or no report.
    """
    exe = ensure_installed(venv)
    data_file = data_file.resolve()
    if not data_file.is_file():
        raise ValidatorError(f"no such file: {data_file}")
    cmd = [
        "timeout",
        "--kill-after=10",
        str(timeout),
        str(exe),
        "--data-file",
        str(data_file),
        "--validate-version",
        "1.2",
        "--block-download",
    ]
    if applicability_criteria:
        cmd += ["--applicability-criteria", applicability_criteria]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1", "COLUMNS": "400"}
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd,
            cwd=_site_packages(venv),  # it opens rules/currency_codes.csv relative to cwd
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=timeout + 30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ValidatorError(f"focus-validator did not finish in {timeout} s") from None
    seconds = time.perf_counter() - start
    if proc.returncode == 124:
        raise ValidatorError(f"focus-validator did not finish in {timeout} s")
    try:
        result = parse_output(proc.stdout, str(data_file))
    except ValidatorError as exc:
        raise ValidatorError(
            f"{exc}\n(exit code {proc.returncode}; stderr: {proc.stderr[-2000:]})"
        ) from None
    result.seconds = seconds
    return result


def _print_human(result: ValidationResult) -> None:
    counts = result.summary()
    print(
        f"focus-validator {VALIDATOR_VERSION} on {result.file}: total {counts['total']} | "
        f"pass {counts['pass']} | fail {counts['fail']} | skipped {counts['skipped']} "
        f"({result.seconds:.1f} s)"
    )
    for r in result.rules:
        if r.status == "FAIL":
            print(f"  FAIL {r.rule}: violations={r.violations}; {r.message}")


def main(argv: list[str] | None = None) -> int:
    """Command line: validate a file, or install / relock the validator."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("file", nargs="?", type=Path, help="FOCUS 1.2 CSV or Parquet file")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds")
    parser.add_argument("--applicability-criteria", help="passed on to the validator (e.g. ALL)")
    parser.add_argument("--install", action="store_true", help="install the validator only")
    parser.add_argument(
        "--relock", action="store_true", help="re-resolve requirements/focus-validator.txt"
    )
    args = parser.parse_args(argv)
    try:
        if args.install or args.relock:
            exe = ensure_installed(relock=args.relock)
            print(f"focus-validator {VALIDATOR_VERSION}: {exe}")
            if args.file is None:
                return 0
        if args.file is None:
            parser.error("give a file to validate (or --install)")
        result = validate(
            args.file, timeout=args.timeout, applicability_criteria=args.applicability_criteria
        )
    except ValidatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        _print_human(result)
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main())
