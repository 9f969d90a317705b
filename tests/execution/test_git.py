"""The git wrapper against real repositories."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from costloop.core.errors import ExecutionError
from costloop.execution import Author, Git, parse_author

GitRun = Callable[..., str]


@pytest.fixture
def repo(make_repo: Callable[[Path], Path], tmp_path: Path) -> Path:
    """A repository with a Terraform file and an executable script."""
    src = tmp_path / "src"
    (src / "tf").mkdir(parents=True)
    (src / "tf" / "main.tf").write_text('resource "a" "b" {\n  x = "1"\n}\n')
    (src / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (src / "run.sh").chmod(0o755)
    return make_repo(src)


def test_branch_and_head_queries(repo: Path, run_git: GitRun) -> None:
    g = Git(repo)
    assert g.current_branch() == "main"
    assert g.head() == run_git(repo, "rev-parse", "HEAD").strip()
    assert g.toplevel().resolve() == repo.resolve()
    assert not g.branch_exists("feature")
    g.create_branch("feature")
    assert g.branch_exists("feature")
    g.checkout(g.head())
    assert g.current_branch() is None


def test_commit_files_leaves_worktree_index_and_branch_alone(repo: Path, run_git: GitRun) -> None:
    (repo / "notes.txt").write_text("uncommitted work\n")
    run_git(repo, "add", "notes.txt")
    g = Git(repo)
    base = g.head()
    sha = g.commit_files(
        "costloop/x",
        {"tf/main.tf": 'resource "a" "b" {\n  x = "2"\n}\n', "run.sh": "#!/bin/sh\necho bye\n"},
        "Change x\n\nbody\n",
        Author("Cost Bot", "bot@example.com"),
    )
    assert g.current_branch() == "main" and g.head() == base
    assert (repo / "tf" / "main.tf").read_text() == 'resource "a" "b" {\n  x = "1"\n}\n'
    assert run_git(repo, "diff", "--cached", "--name-only").split() == ["notes.txt"]
    assert run_git(repo, "rev-parse", "costloop/x").strip() == sha
    assert run_git(repo, "rev-parse", f"{sha}^").strip() == base
    assert run_git(repo, "log", "-1", "--format=%an <%ae>|%cn|%s", sha).strip() == (
        "Cost Bot <bot@example.com>|Cost Bot|Change x"
    )
    assert g.show(sha, "tf/main.tf") == 'resource "a" "b" {\n  x = "2"\n}\n'
    assert run_git(repo, "ls-tree", sha, "run.sh").split()[0] == "100755"  # mode kept
    assert '-  x = "1"\n+  x = "2"' in g.diff(base, sha)


def test_commit_files_refuses_an_existing_branch(repo: Path, run_git: GitRun) -> None:
    g = Git(repo)
    g.create_branch("taken")
    with pytest.raises(ExecutionError, match="update-ref"):
        g.commit_files("taken", {"run.sh": "x\n"}, "m", Author("A", "a@example.com"))
    assert run_git(repo, "rev-parse", "taken").strip() == g.head()


def test_errors_carry_git_stderr(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ExecutionError, match="did not match any file") as info:
        Git(repo).checkout("no-such-branch")
    assert info.value.exit_code == 1
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    with pytest.raises(ExecutionError, match="not a git repository"):
        Git(outside).head()
    with pytest.raises(ExecutionError, match="not a valid branch name"):
        Git(repo).create_branch("bad..name")


def test_show_missing_file_is_none(repo: Path) -> None:
    assert Git(repo).show("HEAD", "nope.tf") is None


def test_injected_runner_sees_the_command_and_environment() -> None:
    seen: list[tuple[list[str], Mapping[str, str]]] = []

    def runner(
        argv: Sequence[str], cwd: Path, stdin: bytes | None, env: Mapping[str, str]
    ) -> tuple[int, bytes, bytes]:
        seen.append((list(argv), env))
        return 0, b"feature\n", b""

    assert Git(Path("/nowhere"), runner).current_branch() == "feature"
    argv, env = seen[0]
    assert argv == ["git", "rev-parse", "--abbrev-ref", "HEAD"]
    assert env["GIT_TERMINAL_PROMPT"] == "0"


def test_parse_author() -> None:
    assert parse_author("Ana Silva <ana@stride.example>") == Author(
        "Ana Silva", "ana@stride.example"
    )
    with pytest.raises(ExecutionError, match="Name <email>"):
        parse_author("ana@stride.example")
