"""Tests for catalog.readers.targets: target syntax, normal forms, trust rules, and relative targets."""

import pytest

from catalog.readers import (
    GitTarget,
    InvalidTarget,
    TargetNotAllowed,
    check_target_allowed,
    format_git_target,
    host_allowed,
    parse_git_target,
    resolve_target,
    validate_target,
)

DEFAULT = "catalog-info.yaml"


@pytest.mark.parametrize(
    ("target", "repository", "branch", "path"),
    [
        ("file:///srv/git/x.git", "file:///srv/git/x.git", None, DEFAULT),
        ("file:///srv/git/x.git#main", "file:///srv/git/x.git", "main", DEFAULT),
        ("file:///srv/git/x.git#main:catalog-info.yaml", "file:///srv/git/x.git", "main", DEFAULT),
        ("file:///srv/git/x.git#main:sub/dir/a.yaml", "file:///srv/git/x.git", "main", "sub/dir/a.yaml"),
        ("file:///srv/x.git:sub/catalog-info.yaml", "file:///srv/x.git", None, "sub/catalog-info.yaml"),
        ("file:///srv/x.git#:sub/a.yaml", "file:///srv/x.git", None, "sub/a.yaml"),
        ("file:///srv/x.git#", "file:///srv/x.git", None, DEFAULT),
        ("file://localhost/srv/x.git", "file:///srv/x.git", None, DEFAULT),
        ("file:///srv/../srv//git/./x.git", "file:///srv/git/x.git", None, DEFAULT),
        # only the first '#' splits; branch names may contain '#', paths ':' and '#'
        ("file:///srv/x.git#feat#1:a.yaml", "file:///srv/x.git", "feat#1", "a.yaml"),
        ("file:///srv/x.git:docs/a.git:b.yaml", "file:///srv/x.git", None, "docs/a.git:b.yaml"),
        ("file:///srv/x.git#main:docs/#1.yaml", "file:///srv/x.git", "main", "docs/#1.yaml"),
        # ports, user@host and a host ending in .git never start a path
        ("ssh://git@host.git:2222/org/x.git", "ssh://git@host.git:2222/org/x.git", None, DEFAULT),
        ("ssh://git@Example.COM:22/org/x.git:a.yaml", "ssh://git@example.com/org/x.git", None, "a.yaml"),
        ("https://host.git:8443/x.git#v2:a.yaml", "https://host.git:8443/x.git", "v2", "a.yaml"),
        ("HTTPS://GitHub.com:443/Org/Repo.git/", "https://github.com/Org/Repo.git", None, DEFAULT),
        ("git://example.com:9418/x.git", "git://example.com/x.git", None, DEFAULT),
        ("http://[::1]:8080/x.git", "http://[::1]:8080/x.git", None, DEFAULT),
        # no .git: a path needs '#'
        ("https://github.com/org/repo", "https://github.com/org/repo", None, DEFAULT),
        ("https://github.com/org/repo#main:a/b.yaml", "https://github.com/org/repo", "main", "a/b.yaml"),
        ("https://github.com/org/repo#:a/b.yaml", "https://github.com/org/repo", None, "a/b.yaml"),
        ("file:///srv/my.github#x", "file:///srv/my.github", "x", DEFAULT),
        # the path is folded and may use '..' inside the repository
        ("file:///srv/x.git:a/./b/../c.yaml", "file:///srv/x.git", None, "a/c.yaml"),
        ("  file:///srv/x.git#release/1.0  ", "file:///srv/x.git", "release/1.0", DEFAULT),
    ],
)
def test_git_targets_parse_into_repository_branch_and_path(target, repository, branch, path):
    assert parse_git_target(target) == GitTarget(repository=repository, branch=branch, path=path)


@pytest.mark.parametrize(
    ("target", "normal_form"),
    [
        ("file:///srv/x.git#main:catalog-info.yaml", "file:///srv/x.git#main"),
        ("file:///srv/x.git#:catalog-info.yaml", "file:///srv/x.git"),
        ("file:///srv/x.git#:sub/a.yaml", "file:///srv/x.git:sub/a.yaml"),
        ("file:///srv/x.git#:sub/#a.yaml", "file:///srv/x.git#:sub/#a.yaml"),
        ("file:///srv/x.git#main:sub/a.yaml", "file:///srv/x.git#main:sub/a.yaml"),
        ("https://github.com/org/repo#:sub/a.yaml", "https://github.com/org/repo#:sub/a.yaml"),
        ("https://GITHUB.com:443/org/repo/#main", "https://github.com/org/repo#main"),
        ("ssh://git@host:22/org/x.git:a.yaml", "ssh://git@host/org/x.git:a.yaml"),
    ],
)
def test_git_targets_have_one_normal_form(target, normal_form):
    assert validate_target("git", target) == normal_form
    assert validate_target("git", normal_form) == normal_form


@pytest.mark.parametrize(
    "target",
    [
        GitTarget("file:///srv/x.git", None, DEFAULT),
        GitTarget("file:///srv/x.git", None, "a/b.yaml"),
        GitTarget("file:///srv/x.git", "main", "a#b:c.yaml"),
        GitTarget("file:///srv/x.git", None, "#a.yaml"),
        GitTarget("https://example.com/org/repo", None, "a.yaml"),
        GitTarget("https://example.com/org/repo", "feature/x", DEFAULT),
        GitTarget("ssh://git@example.com:2222/org/repo.git", "main", "x.git:y.yaml"),
    ],
)
def test_formatting_a_git_target_parses_back_to_the_same_target(target):
    assert parse_git_target(format_git_target(target)) == target


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("git@github.com:org/repo.git", "ssh://git@github.com/org/repo.git"),
        ("github.com:org/repo.git", "ssh://"),
        ("/srv/git/x.git", "not a URL"),
        ("ftp://example.com/x.git", "scheme must be one of"),
        ("https://example.com/x.git?ref=main", "query"),
        ("https://example.com", "names no repository"),
        ("https:///x.git", "no host"),
        ("https://example.com:99999/x.git", "invalid port"),
        ("https://user:s3cret@example.com/x.git", "contains a password"),
        ("https://example.com/org/repo:a.yaml", "#:<path>"),
        ("file://otherhost/srv/x.git", "local path"),
        ("file:///", "names no repository"),
        ("file:///srv/x.git:", "path after ':' is empty"),
        ("file:///srv/x.git#main:", "path after ':' is empty"),
        ("file:///srv/x.git:/etc/passwd", "relative to the repository root"),
        ("file:///srv/x.git:../other.git/a.yaml", "leaves the repository"),
        ("file:///srv/x.git:a/../../b.yaml", "leaves the repository"),
        ("file:///srv/x.git:sub/", "not a folder"),
        ("file:///srv/x.git:.", "names no file"),
        ("file:///srv/x.git#bad..name", "not a valid Git branch name"),
        ("file:///srv/x.git#-rf", "not a valid Git branch name"),
        ("file:///srv/x.git#a b", "not a valid Git branch name"),
        ("file:///srv/x.git#x.lock", "not a valid Git branch name"),
        ("file:///srv/x.git#a/.hidden", "not a valid Git branch name"),
        ("file:///srv/x.git#@", "not a valid Git branch name"),
        ("file:///srv/x.git#a@{1}", "not a valid Git branch name"),
        ("file:///srv/x.git\n#main", "control character"),
        ("https://example.com/my repo.git", "space"),
    ],
)
def test_invalid_git_targets_are_refused_with_a_message_naming_the_problem(target, problem):
    with pytest.raises(InvalidTarget) as raised:
        validate_target("git", target)
    assert problem in str(raised.value)


def test_a_password_in_a_refused_target_is_not_repeated_in_the_message():
    with pytest.raises(InvalidTarget) as raised:
        validate_target("git", "https://user:s3cret@example.com/x.git")
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    ("target", "normal_form"),
    [
        ("https://example.com/a/catalog-info.yaml", "https://example.com/a/catalog-info.yaml"),
        ("HTTP://Example.COM:80/a.yaml?x=1#frag", "http://example.com/a.yaml?x=1"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com:8443/a.yaml", "https://example.com:8443/a.yaml"),
        ("https://bot@example.com/a.yaml", "https://bot@example.com/a.yaml"),
        ("  https://example.com/a.yaml ", "https://example.com/a.yaml"),
    ],
)
def test_url_targets_are_normalized(target, normal_form):
    assert validate_target("url", target) == normal_form


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("ftp://example.com/a.yaml", "https:// or http://"),
        ("file:///etc/passwd", "https:// or http://"),
        ("example.com/a.yaml", "https:// or http://"),
        ("http:/example.com/a.yaml", "https:// or http://"),
        ("https:///a.yaml", "no host"),
        ("https://u:p@example.com/a.yaml", "password"),
        ("https://example.com/a b.yaml", "space"),
    ],
)
def test_invalid_url_targets_are_refused(target, problem):
    with pytest.raises(InvalidTarget) as raised:
        validate_target("url", target)
    assert problem in str(raised.value)


def test_file_targets_are_absolute_and_resolved(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    assert validate_target("file", f"{tmp_path}/link/./x/../catalog-info.yaml") == str(real / "catalog-info.yaml")


@pytest.mark.parametrize("target", ["catalog-info.yaml", "./a.yaml", "~/a.yaml", "file:///srv/a.yaml"])
def test_relative_file_targets_are_refused(target):
    with pytest.raises(InvalidTarget, match="absolute path"):
        validate_target("file", target)


def test_an_unknown_type_is_refused():
    with pytest.raises(InvalidTarget, match="unknown location type 'svn'"):
        validate_target("svn", "svn://example.com/x")


@pytest.mark.parametrize(
    ("type", "base", "relative", "resolved"),
    [
        ("git", "file:///srv/x.git", "team/catalog-info.yaml", "file:///srv/x.git:team/catalog-info.yaml"),
        ("git", "file:///srv/x.git#main:teams/all.yaml", "a.yaml", "file:///srv/x.git#main:teams/a.yaml"),
        ("git", "file:///srv/x.git#main:teams/all.yaml", "./a/../b.yaml", "file:///srv/x.git#main:teams/b.yaml"),
        ("git", "file:///srv/x.git#main:teams/all.yaml", "../catalog-info.yaml", "file:///srv/x.git#main"),
        ("git", "file:///srv/x.git#main:teams/all.yaml", "/root.yaml", "file:///srv/x.git#main:root.yaml"),
        ("git", "https://example.com/org/repo#:a/all.yaml", "b.yaml", "https://example.com/org/repo#:a/b.yaml"),
        ("git", "file:///srv/x.git#main:all.yaml", "https://Example.com/o/r.git#v1", "https://example.com/o/r.git#v1"),
        ("url", "https://example.com/a/all.yaml", "b.yaml", "https://example.com/a/b.yaml"),
        ("url", "https://example.com/a/all.yaml", "../b.yaml", "https://example.com/b.yaml"),
        ("url", "https://example.com/a/all.yaml", "/c/d.yaml", "https://example.com/c/d.yaml"),
        ("url", "https://example.com/a/all.yaml", "https://other.example/x.yaml", "https://other.example/x.yaml"),
        ("url", "https://example.com/a/all.yaml", "//other.example/x.yaml", "https://other.example/x.yaml"),
        ("file", "/srv/catalog/all.yaml", "teams/a.yaml", "/srv/catalog/teams/a.yaml"),
        ("file", "/srv/catalog/all.yaml", "../other/a.yaml", "/srv/other/a.yaml"),
        ("file", "/srv/catalog/all.yaml", "/elsewhere/a.yaml", "/elsewhere/a.yaml"),
    ],
)
def test_targets_listed_in_a_location_file_resolve_against_it(type, base, relative, resolved):
    assert resolve_target(type, base, relative) == resolved


@pytest.mark.parametrize(
    ("type", "base", "relative", "problem"),
    [
        ("git", "file:///srv/x.git#main:teams/all.yaml", "../../escape.yaml", "leaves the repository"),
        ("git", "file:///srv/x.git#main:all.yaml", "", "empty"),
        ("git", "file:///srv/x.git#main:all.yaml", "sub/", "not a folder"),
        ("url", "https://example.com/a/all.yaml", "file:///etc/passwd", "https:// or http://"),
        ("url", "https://example.com/a/all.yaml", "ftp://example.com/a.yaml", "https:// or http://"),
    ],
)
def test_relative_targets_that_break_a_rule_are_invalid(type, base, relative, problem):
    with pytest.raises(InvalidTarget) as raised:
        resolve_target(type, base, relative)
    assert problem in str(raised.value)


@pytest.mark.parametrize(
    ("host", "allowed_hosts", "allowed"),
    [
        ("github.com", ["github.com"], True),
        ("GitHub.com", ["github.com"], True),
        ("github.com.", ["github.com"], True),
        ("api.github.com", ["github.com"], False),
        ("github.com", [".github.com"], True),
        ("api.github.com", [".github.com"], True),
        ("a.b.github.com", [".GitHub.com"], True),
        ("evilgithub.com", [".github.com"], False),
        ("github.com.evil.net", [".github.com"], False),
        ("example.com", [], False),
        ("example.com", [".", ""], False),
        ("127.0.0.1", ["localhost"], False),
        ("github.com", ["github.com:8443"], True),
        ("github.com", ["https://github.com:*"], True),
        ("::1", ["[::1]:8080"], True),
    ],
)
def test_allowed_hosts_match_exact_names_and_dot_domains(host, allowed_hosts, allowed):
    assert host_allowed(host, allowed_hosts) is allowed


@pytest.mark.parametrize(
    ("type", "target", "is_staff", "refusal"),
    [
        ("url", "https://docs.example.com/catalog-info.yaml", False, None),
        ("url", "https://example.com/catalog-info.yaml", False, None),
        ("url", "https://git.internal/catalog-info.yaml", False, None),
        ("url", "https://evil.net/catalog-info.yaml", False, "host 'evil.net' is not in CATALOG_URL_ALLOWED_HOSTS"),
        ("url", "https://internal/catalog-info.yaml", False, "host 'internal'"),
        ("url", "https://evil.net/catalog-info.yaml", True, None),
        ("git", "https://git.internal/org/repo.git", False, None),
        ("git", "ssh://git@docs.example.com/org/repo.git", False, None),
        ("git", "ssh://git@docs.example.com:2222/org/repo.git", False, "ssh://docs.example.com:2222 is not allowed"),
        ("git", "ssh://git@evil.net/org/repo.git", False, "host 'evil.net'"),
        ("git", "git://evil.net/org/repo.git", False, "host 'evil.net'"),
        ("git", "ssh://git@evil.net/org/repo.git", True, None),
        ("git", "file:///srv/git/repo.git", False, "only staff may register git locations with file:// URLs"),
        ("git", "file:///srv/git/repo.git", True, None),
        ("file", "/srv/catalog/catalog-info.yaml", False, "only staff may register file locations"),
    ],
)
def test_who_may_register_which_target(settings, type, target, is_staff, refusal):
    settings.CATALOG_URL_ALLOWED_HOSTS = [".example.com", "git.internal"]
    if refusal is None:
        check_target_allowed(type, target, is_staff=is_staff)
    else:
        with pytest.raises(TargetNotAllowed) as raised:
            check_target_allowed(type, target, is_staff=is_staff)
        assert refusal in str(raised.value)


@pytest.mark.parametrize(
    ("type", "target", "allowed_hosts", "allowed"),
    [
        # a bare host: the scheme's default port only
        ("url", "https://docs.internal/a.yaml", ["docs.internal"], True),
        ("url", "http://docs.internal/a.yaml", ["docs.internal"], True),
        ("url", "http://docs.internal:6379/a.yaml", ["docs.internal"], False),
        ("url", "http://docs.internal:443/a.yaml", ["docs.internal"], False),
        ("url", "https://a.docs.internal:8443/a.yaml", [".docs.internal"], False),
        # host:port names one port, host:* any; IPv6 in brackets
        ("url", "http://docs.internal:8080/a.yaml", ["docs.internal:8080"], True),
        ("url", "https://docs.internal:8080/a.yaml", ["docs.internal:8080"], True),
        ("url", "https://docs.internal/a.yaml", ["docs.internal:8080"], False),
        ("url", "https://a.docs.internal:8443/a.yaml", [".docs.internal:8443"], True),
        ("url", "http://docs.internal:6379/a.yaml", ["docs.internal:*"], True),
        ("url", "http://[::1]:8080/a.yaml", ["[::1]:8080"], True),
        ("url", "http://[::1]/a.yaml", ["[::1]:8080"], False),
        # scheme://host[:port] names the scheme too
        ("url", "https://docs.internal/a.yaml", ["https://docs.internal"], True),
        ("url", "http://docs.internal/a.yaml", ["https://docs.internal"], False),
        ("url", "http://docs.internal:443/a.yaml", ["https://docs.internal:443"], False),
        # Git remotes follow the same rule with ssh's 22 and git's 9418
        ("git", "ssh://git@git.internal/org/repo.git", ["git.internal"], True),
        ("git", "git://git.internal/org/repo.git", ["git.internal"], True),
        ("git", "ssh://git@git.internal:2222/org/repo.git", ["git.internal"], False),
        ("git", "ssh://git@git.internal:2222/org/repo.git", ["git.internal:2222"], True),
        ("git", "https://git.internal/org/repo.git", ["ssh://git.internal"], False),
        # a malformed entry allows nothing
        ("url", "https://docs.internal/a.yaml", ["https://docs.internal/path"], False),
        ("url", "https://docs.internal/a.yaml", ["docs.internal:99999"], False),
    ],
)
def test_the_allow_list_covers_scheme_host_and_port(settings, type, target, allowed_hosts, allowed):
    settings.CATALOG_URL_ALLOWED_HOSTS = allowed_hosts
    if allowed:
        check_target_allowed(type, target, is_staff=False)
    else:
        with pytest.raises(TargetNotAllowed, match="CATALOG_URL_ALLOWED_HOSTS"):
            check_target_allowed(type, target, is_staff=False)


def test_a_port_off_the_allow_list_is_named_with_the_entries_that_would_allow_the_host(settings):
    settings.CATALOG_URL_ALLOWED_HOSTS = ["docs.internal", "other.internal"]
    with pytest.raises(TargetNotAllowed) as raised:
        check_target_allowed("url", "http://docs.internal:6379/", is_staff=False)
    assert str(raised.value) == (
        "http://docs.internal:6379 is not allowed by CATALOG_URL_ALLOWED_HOSTS (it allows docs.internal; a host"
        " without a port allows only the scheme's default port); only staff may register locations elsewhere"
    )


@pytest.mark.parametrize(
    ("target", "part"),
    [
        ("ssh://-oProxyCommand=x@host/repo.git", "the user '-oProxyCommand=x'"),
        ("ssh://%2DoProxyCommand=x@host/repo.git", "the user '-oProxyCommand=x'"),
        ("ssh://git@-oProxyCommand=x/repo.git", "the host '-oproxycommand=x'"),
        ("ssh://-host/repo.git", "the host '-host'"),
        ("https://-host/repo.git", "the host '-host'"),
        ("git://-host/repo.git", "the host '-host'"),
        ("-host:repo", "the host '-host'"),
        ("git@-x:repo", "the host '-x'"),
        ("-u@host:repo", "the user '-u'"),
    ],
)
def test_git_urls_whose_user_or_host_begins_with_a_dash_are_refused_naming_the_part(target, part):
    # ssh would take them for options (ProxyCommand runs a command): refused before Git sees them
    with pytest.raises(InvalidTarget, match=f"{part} begins with '-'"):
        validate_target("git", target)
    with pytest.raises(InvalidTarget, match=f"{part} begins with '-'"):
        validate_target("git", f"{target}#main:catalog-info.yaml")


def test_staff_may_register_file_locations_only_under_the_file_roots(settings, tmp_path):
    root = tmp_path / "catalog"
    root.mkdir()
    (tmp_path / "catalog-evil").mkdir()
    settings.CATALOG_FILE_ROOTS = [root]
    check_target_allowed("file", str(root / "team" / "catalog-info.yaml"), is_staff=True)
    for outside in [tmp_path / "catalog-evil" / "a.yaml", root / ".." / "a.yaml", "/etc/passwd"]:
        with pytest.raises(TargetNotAllowed, match="CATALOG_FILE_ROOTS"):
            check_target_allowed("file", str(outside), is_staff=True)


def test_a_symlink_out_of_the_file_roots_is_refused_even_for_staff(settings, tmp_path):
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "escape").symlink_to("/etc")
    settings.CATALOG_FILE_ROOTS = [root]
    with pytest.raises(TargetNotAllowed, match="CATALOG_FILE_ROOTS"):
        check_target_allowed("file", str(root / "escape" / "passwd"), is_staff=True)


def test_checking_a_target_checks_its_syntax_first():
    with pytest.raises(InvalidTarget):
        check_target_allowed("git", "git@github.com:org/repo.git", is_staff=True)
