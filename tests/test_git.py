"""backport.git: commands started early and answered later, and objects read in a batch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from builder import RepoBuilder

from backport.errors import GitError, RepoError
from backport.git import Git


@pytest.fixture
def repo(make_repo: Callable[..., RepoBuilder]) -> RepoBuilder:
    repo = make_repo("main")
    repo.commit("one", {"a": "1\n"})
    return repo


def traced(builder: RepoBuilder, tmp_path: Path) -> tuple[Git, Path]:
    trace = tmp_path / "trace"
    return Git(str(builder.path), {"GIT_TRACE": str(trace)}), trace


def started(trace: Path) -> list[str]:
    if not trace.exists():
        return []
    rows = trace.read_text().splitlines()
    return [row.split("trace: built-in: git ", 1)[1] for row in rows if "trace: built-in: git " in row]


def test_a_command_started_ahead_answers_every_identical_run(repo: RepoBuilder, tmp_path: Path) -> None:
    git, trace = traced(repo, tmp_path)
    expected = Git(str(repo.path)).run(["rev-parse", "HEAD"])
    git.ahead(["rev-parse", "HEAD"])
    first = git.run(["rev-parse", "HEAD"])
    second = git.run(["rev-parse", "HEAD"])
    git.close()
    assert first.stdout == second.stdout == expected.stdout
    assert first.returncode == 0
    assert started(trace) == ["rev-parse HEAD"]


def test_other_arguments_or_input_are_other_commands(repo: RepoBuilder, tmp_path: Path) -> None:
    git, trace = traced(repo, tmp_path)
    query = ["cat-file", "--batch-check=%(objecttype)"]
    git.ahead(query, input=b"HEAD\n")
    assert git.run(query, input=b"HEAD:a\n").stdout == b"blob\n"
    assert git.run(query, input=b"HEAD\n").stdout == b"commit\n"
    assert git.run(["rev-parse", "--verify", "HEAD"]).returncode == 0
    git.close()
    assert len(started(trace)) == 3


def test_input_too_big_to_write_at_once_is_written_when_taken(repo: RepoBuilder) -> None:
    git = Git(str(repo.path))
    request = b"HEAD\n" * 2000  # 10,000 bytes: more than Git.ahead writes up front
    query = ["cat-file", "--batch-check=%(objecttype)"]
    git.ahead(query, input=request)
    assert git.run(query, input=request).stdout == b"commit\n" * 2000
    git.close()


def test_a_failure_started_ahead_is_the_same_failure(repo: RepoBuilder) -> None:
    git = Git(str(repo.path))
    git.ahead(["rev-parse", "--verify", "no-such-branch"])
    assert git.run(["rev-parse", "--verify", "no-such-branch"], check=False).returncode == 128
    with pytest.raises(GitError, match="no-such-branch|Needed a single revision"):
        git.run(["rev-parse", "--verify", "no-such-branch"])
    git.close()


def test_close_stops_what_nobody_asked_for(repo: RepoBuilder) -> None:
    git = Git(str(repo.path))
    # with more input than is written up front, git waits for it: forever,
    # unless close() stops it
    git.ahead(["cat-file", "--batch-check"], input=b"HEAD\n" * 2000)
    (proc,) = git._started.values()
    git.close()
    assert proc.returncode is not None  # stopped and reaped
    # a run afterwards is a run of its own
    assert git.run(["cat-file", "--batch-check"], input=b"HEAD\n" * 2000).stdout.split()[1] == b"commit"


def test_a_moved_git_keeps_what_was_started_ahead_and_runs_where_it_moved(repo: RepoBuilder, tmp_path: Path) -> None:
    repo.commit("two", {"sub/dir/b": "2\n"})
    trace = tmp_path / "trace"
    git = Git(str(repo.path / "sub" / "dir"), {"GIT_TRACE": str(trace)})
    git.ahead(["config", "--get", "user.name"])
    top = git.moved_to(str(repo.path))
    assert top.run(["config", "--get", "user.name"]).stdout == b"Carl Committer\n"
    assert started(trace) == ["config --get user.name"]  # taken from the process started before the move
    assert top.run(["rev-parse", "--show-prefix"]).stdout == b"\n"  # runs at the top now
    assert git.run(["rev-parse", "--show-prefix"]).stdout == b"sub/dir/\n"
    top.close()


def test_streams_sharing_a_doorbell_are_read_as_their_output_arrives(repo: RepoBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    import queue

    import backport.git

    for i in range(30):
        repo.commit(f"commit {i}\n\n" + "body line\n" * i)
    monkeypatch.setattr(backport.git, "_CHUNK", 64)  # many small chunks
    git = Git(str(repo.path))
    commands = [["log", "-z", "--format=%H%x00%B", "HEAD"], ["rev-list", "HEAD"]]
    doorbell: queue.SimpleQueue = queue.SimpleQueue()
    streams = [git.start_stream(args, doorbell) for args in commands]
    read = {stream: b"" for stream in streams}
    ended: set = set()
    while len(ended) < len(streams):
        stream = doorbell.get()
        if stream in ended:
            continue
        data, last = stream.arrived()
        read[stream] += data
        if last:
            ended.add(stream)
            stream.close()
    for stream, args in zip(streams, commands, strict=True):
        assert read[stream] == git.run(args).stdout


def test_a_failing_stream_says_so_when_its_end_arrives(repo: RepoBuilder) -> None:
    import queue

    doorbell: queue.SimpleQueue = queue.SimpleQueue()
    stream = Git(str(repo.path)).start_stream(["log", "no-such-branch", "--"], doorbell)
    with pytest.raises(GitError, match="no-such-branch"):
        while True:
            doorbell.get()
            if stream.arrived()[1]:
                break
    stream.close()


def test_a_record_splitter_takes_chunks_cut_anywhere_and_refuses_a_cut_record() -> None:
    from backport.git import RecordSplitter

    data = b"a\0one\0b\0two\0c\0three\0"
    for cut in range(len(data) + 1):
        splitter = RecordSplitter(2)
        records = splitter.push(data[:cut]) + splitter.push(data[cut:])
        splitter.end()
        assert records == [[b"a", b"one"], [b"b", b"two"], [b"c", b"three"]]
    splitter = RecordSplitter(2)
    splitter.push(b"a\0one\0b\0")
    with pytest.raises(ValueError, match="truncated"):
        splitter.end()


def test_a_directory_gone_is_not_a_missing_git(tmp_path: Path) -> None:
    """Starting git in a directory that no longer exists fails the same way
    as a missing git binary: the error must say which it is."""
    gone = tmp_path / "gone"
    with pytest.raises(RepoError) as caught:
        Git(str(gone)).run(["version"])
    assert str(gone) in str(caught.value) and "no such directory" in str(caught.value)
    assert "not installed" not in str(caught.value)


def test_objects_read_in_one_batch_whatever_the_names_hold(repo: RepoBuilder) -> None:
    """A missing name with spaces (git echoes it back, then "missing")
    must not be read as a found object, and must not shift what follows."""
    repo.commit("two", {"a": "1 2\n", "b": "x\n"})
    git = Git(str(repo.path))
    found = git.read_objects(["HEAD:a", "no 5", "no tree 12", "two\nlines", "HEAD:b", "HEAD"])
    assert [f and (f[1], f[2]) for f in found[:5]] == [("blob", b"1 2\n"), None, None, None, ("blob", b"x\n")]
    assert found[5] is not None and found[5][1] == "commit" and found[5][0] == repo.head()
    assert git.read_objects([]) == []
