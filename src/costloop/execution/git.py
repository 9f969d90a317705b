"""A thin wrapper over the ``git`` command line (real git, run as a subprocess).

Commits for pull requests are built with plumbing (a temporary index, ``commit-tree``,
``update-ref``), so creating a branch never touches the working tree, the checked-out
branch or the user's index: uncommitted work is safe.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from costloop.core.errors import ExecutionError

__all__ = ["Author", "Git", "Runner", "parse_author"]

# (argv, cwd, stdin, extra environment) -> (exit code, stdout, stderr)
Runner = Callable[[Sequence[str], Path, bytes | None, Mapping[str, str]], tuple[int, bytes, bytes]]

_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>\s]+)>\s*$")


@dataclass(frozen=True)
class Author:
    """A commit author (also used as committer)."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def parse_author(text: str) -> Author:
    """Parse ``Name <email>``; ExecutionError when malformed."""
    m = _AUTHOR.match(text)
    if m is None:
        raise ExecutionError(f"author must look like 'Name <email>', got {text!r}")
    return Author(m.group("name"), m.group("email"))


def subprocess_runner(
    argv: Sequence[str], cwd: Path, stdin: bytes | None, env: Mapping[str, str]
) -> tuple[int, bytes, bytes]:
    """Run a command with ``subprocess.run`` (the default runner)."""
    try:
        done = subprocess.run(
            list(argv), cwd=cwd, input=stdin, capture_output=True, env={**os.environ, **env}
        )
    except FileNotFoundError as exc:
        raise ExecutionError(f"cannot run {argv[0]}: {exc.strerror}; is git installed?") from exc
    return done.returncode, done.stdout, done.stderr


class Git:
    """Git operations on one repository.

    Args:
        repo: the repository's working tree (or any folder inside it).
        runner: runs a command; the default is ``subprocess_runner``.
    """

    def __init__(self, repo: Path, runner: Runner | None = None) -> None:
        self.repo = repo
        self._runner = runner or subprocess_runner

    def run(
        self, *args: str, stdin: bytes | None = None, env: Mapping[str, str] | None = None
    ) -> str:
        """Run ``git ARGS`` and return stdout; ExecutionError with git's stderr on failure."""
        fixed = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", **(env or {})}
        code, out, err = self._runner(["git", *args], self.repo, stdin, fixed)
        if code != 0:
            message = err.decode(errors="replace").strip() or out.decode(errors="replace")
            raise ExecutionError(f"git {' '.join(args)} failed in {self.repo}: {message.strip()}")
        return out.decode(errors="replace")

    def toplevel(self) -> Path:
        """The repository's root folder."""
        return Path(self.run("rev-parse", "--show-toplevel").strip())

    def head(self) -> str:
        """The commit id HEAD points to."""
        return self.run("rev-parse", "--verify", "HEAD^{commit}").strip()

    def current_branch(self) -> str | None:
        """The checked-out branch, or None on a detached HEAD."""
        name = self.run("rev-parse", "--abbrev-ref", "HEAD").strip()
        return None if name == "HEAD" else name

    def branch_exists(self, name: str) -> bool:
        """Whether ``refs/heads/<name>`` exists."""
        code, _, _ = self._runner(
            ["git", "show-ref", "--verify", "--quiet", f"refs/heads/{name}"], self.repo, None, {}
        )
        return code == 0

    def create_branch(self, name: str, base: str = "HEAD") -> None:
        """Create branch ``name`` at ``base`` without checking it out."""
        self.run("check-ref-format", "--branch", name)
        self.run("branch", name, base)

    def checkout(self, ref: str) -> None:
        """Check out a branch or commit."""
        self.run("checkout", "--quiet", ref)

    def show(self, rev: str, path: str) -> str | None:
        """A file's content at ``rev``, or None when it does not exist there."""
        code, out, _ = self._runner(["git", "show", f"{rev}:{path}"], self.repo, None, {})
        return out.decode(errors="replace") if code == 0 else None

    def is_dirty(self, paths: Sequence[str] = ()) -> bool:
        """Whether the working tree or index differs from HEAD (for ``paths`` if given)."""
        return bool(self.run("status", "--porcelain", "--", *paths).strip())

    def diff(self, base: str, target: str) -> str:
        """The unified diff between two revisions."""
        return self.run("diff", "--no-color", "--no-ext-diff", base, target)

    def commit_files(
        self,
        branch: str,
        files: Mapping[str, str],
        message: str,
        author: Author,
        base: str = "HEAD",
    ) -> str:
        """Create ``branch`` at a new commit on ``base`` with ``files`` replaced.

        The working tree, index and checked-out branch are left untouched.

        Args:
            branch: the new branch (must not exist).
            files: POSIX path relative to the repository root → new text content.
            message: the commit message.
            author: author and committer.
            base: the parent revision.

        Returns:
            The new commit's id.
        """
        self.run("check-ref-format", "--branch", branch)
        parent = self.run("rev-parse", "--verify", f"{base}^{{commit}}").strip()
        identity = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_COMMITTER_NAME": author.name,
            "GIT_COMMITTER_EMAIL": author.email,
        }
        with tempfile.TemporaryDirectory(prefix="costloop-git-") as tmp:
            index = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.run("read-tree", parent, env=index)
            for path, content in sorted(files.items()):
                mode = self._mode(parent, path)
                blob = self.run(
                    "hash-object", "-w", "--stdin", f"--path={path}", stdin=content.encode()
                ).strip()
                self.run("update-index", "--add", "--cacheinfo", f"{mode},{blob},{path}", env=index)
            tree = self.run("write-tree", env=index).strip()
        commit = self.run(
            "commit-tree", tree, "-p", parent, "-F", "-", stdin=message.encode(), env=identity
        ).strip()
        zero = "0" * len(commit)
        self.run("update-ref", "-m", "costloop: pull request", f"refs/heads/{branch}", commit, zero)
        return commit

    def _mode(self, rev: str, path: str) -> str:
        listing = self.run("ls-tree", rev, "--", path).split()
        return listing[0] if listing else "100644"
