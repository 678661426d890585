"""Which repositories a coding step may work on, and which clone URLs reach private addresses."""

import ipaddress

import pytest

from missionctl.domain.governance import (
    address_refusal,
    literal_address,
    repository_allowed,
    repository_entry_problem,
    repository_refusal,
)

ALLOWED = ("/srv/repos", "https://git.example.com/team", "git@git.example.com:team/")


@pytest.mark.parametrize(
    "source",
    ["/srv/repos", "/srv/repos/shop", "/srv//repos/shop/", "https://git.example.com/team",
     "https://git.example.com/team/shop.git", "git@git.example.com:team/shop.git"],
)  # fmt: skip
def test_a_listed_path_allows_what_is_under_it_and_a_url_what_continues_it(source: str) -> None:
    assert repository_allowed(source, ALLOWED)


@pytest.mark.parametrize(
    "source",
    ["/srv/repos-evil", "/srv/repos/../etc", "/srv/repos/./shop", "/srv", "/srv/any/repo",
     "https://git.example.com/team-b/x.git", "https://git.example.com/team@evil.com/x",
     "https://git.example.com/team/%2e%2e/admin", "git@git.example.com:teams/x.git"],
)  # fmt: skip
def test_a_neighbour_a_parent_or_a_dot_dot_is_not_allowed(source: str) -> None:
    assert not repository_allowed(source, ALLOWED)


def test_an_empty_list_allows_nothing_and_the_refusal_names_the_command() -> None:
    said = repository_refusal("/srv/any/repo", (), field="inputs.repository")
    assert said is not None and "no repository is allowed yet" in said
    assert "`missionctl agents allow-repository /srv/any/repo`" in said
    hidden = repository_refusal("https://bob:t0ken@h.example/x", (), field="f") or ""
    assert "t0ken" not in hidden


@pytest.mark.parametrize(
    ("entry", "said"),
    [("", "empty"), ("relative", "neither"), ("/srv/../etc", "'..'"), (" /srv", "space"),
     ("https://bob:t0ken@h.example/x", "password")],
)  # fmt: skip
def test_a_bad_entry_is_refused_saying_why(entry: str, said: str) -> None:
    assert said in (repository_entry_problem(entry) or "")


@pytest.mark.parametrize(
    "host",
    ["169.254.169.254", "2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518",
     "0xa9.0xfe.0xa9.0xfe"],
)  # fmt: skip
def test_every_spelling_of_the_metadata_address_is_read_as_it(host: str) -> None:
    assert literal_address(host) == ipaddress.IPv4Address("169.254.169.254")


def test_a_name_is_no_address_and_an_allowed_network_lets_a_private_one_through() -> None:
    assert literal_address("git.example.com") is None
    assert literal_address("999.1.1.1") is None
    local = "http://127.0.0.1:8080/repo.git"
    assert "MISSIONCTL_HTTP_AGENT_ALLOWED_NETWORKS" in (address_refusal(local, (), field="f") or "")
    assert address_refusal(local, (ipaddress.ip_network("127.0.0.0/8"),), field="f") is None
    assert address_refusal("http://localhost/x", (), field="f") is not None
    assert address_refusal("https://93.184.216.34/x.git", (), field="f") is None
    assert address_refusal("/srv/repos/x", (), field="f") is None
