"""Git as coding steps run it: the repository's own configuration only; clone URLs pinned."""

import asyncio
import contextlib
import ipaddress
import re
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from missionctl.agents.base import AgentError
from missionctl.agents.git import (
    RepositoryStore,
    add_worktree,
    commit_all,
    remove_worktree,
    resolve_commit,
)
from missionctl.agents.git_remote import AddressPolicy, pin_clone_url
from missionctl.domain.coding import is_repository_source
from tests.coding.helpers import git, make_repository

LOOPBACK = AddressPolicy(
    allowed=(ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
)


async def test_git_reads_neither_the_global_nor_the_system_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repository(tmp_path)
    (repo / ".gitattributes").write_text("* filter=x\n")
    git(repo, "add", ".gitattributes")
    git(repo, "commit", "--quiet", "-m", "attributes")
    marker = tmp_path / "marker"
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        f'[filter "x"]\n\tclean = touch {marker}; cat\n\trequired = true\n'
        f"[core]\n\thooksPath = {home}\n"
    )
    monkeypatch.setenv("HOME", str(home))
    store = RepositoryStore(tmp_path / "clones")
    opened = await store.open(str(repo))
    base = await resolve_commit(opened, "main")
    tree = await add_worktree(opened, path=tmp_path / "ws" / "repo", branch="b", commit=base)
    (tree.path / "app.txt").write_text("changed\n")
    head = await commit_all(tree, "change")
    await remove_worktree(opened, tree.path)
    assert not marker.exists()
    assert git(repo, "show", f"{head}:app.txt") == "changed\n"


async def test_a_worktree_left_as_a_link_is_removed_without_following_it(tmp_path: Path) -> None:
    repo = make_repository(tmp_path)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.txt").write_text("keep\n")
    opened = await RepositoryStore(tmp_path / "clones").open(str(repo))
    path = tmp_path / "ws" / "repo"
    path.parent.mkdir()
    path.symlink_to(precious)  # a crashed attempt's program left this
    base = await resolve_commit(opened, "main")
    tree = await add_worktree(opened, path=path, branch="b", commit=base)
    assert not path.is_symlink() and (path / "app.txt").exists()
    assert (precious / "keep.txt").read_text() == "keep\n"
    await asyncio.to_thread(shutil.rmtree, tree.path)
    path.symlink_to(precious)  # and a program replaced the worktree by a link again
    with pytest.raises(AgentError, match="was moved, removed or replaced"):
        await commit_all(tree, "nothing")
    await remove_worktree(opened, path)
    assert not path.exists() and not path.is_symlink()
    assert (precious / "keep.txt").read_text() == "keep\n"
    assert git(repo, "worktree", "list", "--porcelain").count("worktree ") == 1


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("http://169.254.169.254/x.git", "169.254.169.254, a private or reserved address"),
        ("https://127.0.0.1/x", "127.0.0.1, a private or reserved address"),
        ("http://2852039166/x.git", "169.254.169.254, a private or reserved address"),
        ("https://[::1]/x.git", "::1, a private or reserved address"),
        ("git://10.1.2.3/x.git", "10.1.2.3, a private or reserved address"),
        ("ssh://-oProxyCommand=touch%20/tmp/x/y", "starts with '-'"),
        ("ssh://git@-oProxyCommand=x/y", "starts with '-'"),
        ("-oProxyCommand=x@host:path", "starts with '-'"),
        ("ssh://%2doProxyCommand=x@host/y", "starts with '-'"),
        ("https://exa mple.com/x", "not a host name or address"),
    ],
)
async def test_a_clone_url_to_a_private_address_or_with_an_option_is_refused(
    tmp_path: Path, url: str, said: str
) -> None:
    store = RepositoryStore(tmp_path / "clones")
    with pytest.raises(AgentError) as refused:
        await store.open(url)
    assert said in refused.value.message
    assert refused.value.retryable is False
    assert not (tmp_path / "clones").exists() or not any((tmp_path / "clones").iterdir())
    assert not await asyncio.to_thread(Path("/tmp/x/y").exists)


def test_the_shared_rule_refuses_a_user_or_host_that_starts_with_a_dash() -> None:
    for url in ("ssh://-oProxyCommand=touch%20/tmp/x/y", "-o@host:path", "u@-host:path"):
        assert not is_repository_source(url), url
    for url in ("ssh://git@example.com/shop.git", "git@example.com:team/shop.git"):
        assert is_repository_source(url), url


async def test_a_name_that_resolves_to_a_private_address_is_refused(tmp_path: Path) -> None:
    async def metadata(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "169.254.169.254"]  # one public address is not enough

    store = RepositoryStore(tmp_path / "clones", AddressPolicy(resolve=metadata))
    with pytest.raises(
        AgentError, match=re.escape("'git.example.com' resolves to 169.254.169.254")
    ):
        await store.open("https://git.example.com/shop.git")


async def test_the_checked_address_is_pinned_for_every_protocol() -> None:
    async def public(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]

    policy = AddressPolicy(resolve=public)
    https = await pin_clone_url("https://git.example.com/team/shop.git", policy)
    assert https.url == "https://git.example.com/team/shop.git"
    assert "http.curloptResolve=git.example.com:443:93.184.215.14" in https.config
    assert "http.followRedirects=false" in https.config
    assert "protocol.https.allow=always" in https.config
    ssh = await pin_clone_url("ssh://git@git.example.com:2222/team/shop.git", policy)
    assert ssh.url == "ssh://git@93.184.215.14:2222/team/shop.git"
    assert "core.sshCommand=ssh -o HostKeyAlias=git.example.com" in ssh.config
    scp = await pin_clone_url("git@git.example.com:team/shop.git", policy)
    assert scp.url == "git@93.184.215.14:team/shop.git"
    plain = await pin_clone_url("git://git.example.com/shop.git", policy)
    assert plain.url == "git://93.184.215.14:9418/shop.git"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    """A bare repository served over dumb HTTP on 127.0.0.1 (the directory and the port)."""
    source = make_repository(tmp_path, "source")
    root = tmp_path / "served"
    subprocess.run(["git", "clone", "--bare", "--quiet", str(source), str(root / "shop.git")],
                   check=True)  # fmt: skip
    subprocess.run(["git", "update-server-info"], cwd=root / "shop.git", check=True)
    handler = partial(_QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield source, int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test's output free of one line per request."""


async def test_an_http_clone_connects_to_the_pinned_address_only(
    tmp_path: Path, served: tuple[Path, int]
) -> None:
    source, port = served

    async def pinned(host: str, port: int) -> list[str]:
        assert host == "repo.invalid"  # a name no resolver knows: only the pin reaches it
        return ["127.0.0.1"]

    allowed = AddressPolicy(allowed=LOOPBACK.allowed, resolve=pinned)
    store = RepositoryStore(tmp_path / "clones", allowed)
    opened = await store.open(f"http://repo.invalid:{port}/shop.git")
    assert await resolve_commit(opened, "main") == git(source, "rev-parse", "main").strip()
    again = await store.open(f"http://repo.invalid:{port}/shop.git")  # fetched, pinned too
    assert again.git_dir == opened.git_dir
    refused = RepositoryStore(tmp_path / "other", AddressPolicy(resolve=pinned))
    with pytest.raises(AgentError, match="private or reserved"):
        await refused.open(f"http://repo.invalid:{port}/shop.git")


async def test_a_git_protocol_clone_goes_to_the_checked_address(tmp_path: Path) -> None:
    source = make_repository(tmp_path, "source")
    port = _free_port()
    daemon = await asyncio.create_subprocess_exec(
        "git", "daemon", "--export-all", "--reuseaddr", "--listen=127.0.0.1",
        f"--port={port}", f"--base-path={tmp_path}", str(tmp_path),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            await asyncio.sleep(0.05)
        store = RepositoryStore(tmp_path / "clones", LOOPBACK)
        opened = await store.open(f"git://localhost:{port}/source")
        assert await resolve_commit(opened, "main") == git(source, "rev-parse", "main").strip()
        origin = git(opened.path, "config", "remote.origin.url").strip()
        assert origin.startswith("git://127.0.0.1:") or origin.startswith("git://[::1]:")
    finally:
        daemon.terminate()
        await daemon.wait()
