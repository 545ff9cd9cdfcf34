"""The repository and site address (kb/site_address.py): derived from KB_REPOSITORY / KB_SITE_URL,
mkdocs.yml, GitHub Actions or the git remote, github.com only, never a placeholder; unknown means no
source, edit or Colab links and one Korean line in the build log. Then the shared build (published
at conftest.SITE_URL) carries that address in sitemap.xml, canonical links, the source and edit
links and "Colab에서 열기", and no page points at the old placeholder repository.

The cases make their own git repositories under tmp_path: the suite never reads this checkout's
remote (a fresh clone's origin is a local path, which counts as unknown).
"""

from __future__ import annotations

import logging
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup, SoupStrainer

from browser_helpers import site_pages
from conftest import ROOT, SITE_REPOSITORY, SITE_URL
from kb.site_address import AddressError, derive, github_repository, pages_url

REPO = "https://github.com/study-group/kb-notes"


def git_project(tmp_path: Path, remote: str | None) -> Path:
    """A fresh git repository in tmp_path, with ``remote`` as its origin (None: no remote)."""
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    if remote is not None:
        subprocess.run(["git", "-C", str(project), "remote", "add", "origin", remote], check=True)
    return project


@pytest.mark.parametrize("remote", [
    "https://github.com/study-group/kb-notes",
    "https://github.com/study-group/kb-notes.git",
    "https://github.com/study-group/kb-notes/",
    "https://someone@github.com/study-group/kb-notes.git",
    "git@github.com:study-group/kb-notes.git",
    "git@github.com:study-group/kb-notes",
    "ssh://git@github.com/study-group/kb-notes.git",
])
def test_github_remote_forms_give_the_repository_and_its_pages_address(tmp_path, remote):
    address = derive(git_project(tmp_path, remote), env={})
    assert address.repository == REPO
    assert address.site_url == "https://study-group.github.io/kb-notes/"
    assert address.note is None


@pytest.mark.parametrize("remote", [
    "/srv/git/knowledge-base",  # a clone of a clone: CI's fresh clone of this checkout
    "file:///srv/git/knowledge-base.git",
    "https://gitlab.com/study-group/kb-notes.git",
    "git@gitlab.com:study-group/kb-notes.git",
    "https://github.com.evil.example/study-group/kb-notes",
    "https://github.com/study-group",
])
def test_a_remote_that_is_not_a_github_repository_is_unknown(tmp_path, remote):
    address = derive(git_project(tmp_path, remote), env={})
    assert (address.repository, address.site_url) == (None, None)
    assert "github.com 저장소가 아님" in address.note and "링크" in address.note


def test_no_remote_and_no_git_are_unknown_and_say_so(tmp_path):
    for project in (git_project(tmp_path, None), tmp_path):  # tmp_path itself: no repository at all
        address = derive(project, env={})
        assert (address.repository, address.site_url) == (None, None)
        assert "origin이 없음" in address.note
        assert "'원본 보기 · 이 페이지 고치기'와 'Colab에서 열기' 링크" in address.note
        assert "KB_REPOSITORY=https://github.com/OWNER/REPO" in address.note


def test_a_token_in_a_remote_never_reaches_the_log(tmp_path):
    address = derive(git_project(tmp_path, "https://oauth2:glpat-SECRET@gitlab.com/g/kb.git"), env={})
    assert "SECRET" not in address.note and "gitlab.com/g/kb.git" in address.note


def test_github_actions_names_the_repository_it_runs_in(tmp_path):
    project = git_project(tmp_path, "/home/runner/elsewhere")  # Actions' variables win over the remote
    env = {"GITHUB_REPOSITORY": "study-group/kb-notes", "GITHUB_SERVER_URL": "https://github.com"}
    address = derive(project, env=env)
    assert (address.repository, address.site_url) == (REPO, "https://study-group.github.io/kb-notes/")
    ghes = derive(project, env={**env, "GITHUB_SERVER_URL": "https://git.example.com"})
    assert ghes.repository is None and "git.example.com는 github.com이 아님" in ghes.note


def test_a_repository_named_owner_github_io_is_served_at_the_root(tmp_path):
    assert pages_url("https://github.com/Study-Group/study-group.github.io") == "https://study-group.github.io/"
    address = derive(git_project(tmp_path, "git@github.com:Study-Group/Study-Group.github.io.git"), env={})
    assert address.site_url == "https://study-group.github.io/"
    assert pages_url("https://github.com/Study-Group/Notes") == "https://study-group.github.io/Notes/"


def test_settings_win_over_what_is_derived(tmp_path):
    project = git_project(tmp_path, "git@github.com:someone/fork.git")
    env = {"KB_REPOSITORY": REPO + ".git", "GITHUB_REPOSITORY": "someone/else"}
    assert derive(project, env=env).repository == REPO
    assert derive(project, env={}, config_repository=REPO).repository == REPO  # mkdocs.yml extra.repository
    assert derive(project, env={}, config_repo_url=REPO + "/").repository == REPO  # mkdocs.yml repo_url
    gitlab = derive(project, env={}, config_repo_url="https://gitlab.com/a/b")  # Material's, another host
    assert gitlab.repository is None and "repo_url(https://gitlab.com/a/b)이 github.com 저장소가 아님" in gitlab.note
    site = derive(project, env={"KB_SITE_URL": "https://kb.example.org"})
    assert (site.repository, site.site_url) == ("https://github.com/someone/fork", "https://kb.example.org/")
    # mkdocs.yml's site_url, or the address `mkdocs serve` puts there, is kept
    served = derive(project, env={"KB_SITE_URL": "https://kb.example.org/"}, config_site_url="http://127.0.0.1:8000/")
    assert served.site_url == "http://127.0.0.1:8000/"


def test_a_site_address_without_a_repository_still_leaves_the_links_out(tmp_path):
    address = derive(git_project(tmp_path, None), env={"KB_SITE_URL": "https://kb.example.org/"})
    assert (address.repository, address.site_url) == (None, "https://kb.example.org/")
    assert "site_url" not in address.note and "링크 없이" in address.note


@pytest.mark.parametrize(("env", "named"), [
    ({"KB_REPOSITORY": "https://gitlab.com/a/b"}, "KB_REPOSITORY"),
    ({"KB_REPOSITORY": "dl-study/knowledge-base"}, "KB_REPOSITORY"),
    ({"KB_SITE_URL": "example-owner.github.io/kb"}, "KB_SITE_URL"),
])
def test_a_malformed_setting_is_an_error_naming_it(tmp_path, env, named):
    with pytest.raises(AddressError, match=f"^{named}: "):
        derive(tmp_path, env=env)


def test_github_repository_reads_only_github_com():
    assert github_repository("https://GitHub.com/a/b.git") == "https://github.com/a/b"
    assert github_repository("https://github.com/a/b/tree/main") is None


def test_an_unknown_address_leaves_links_out_and_logs_one_info_line(tmp_path, monkeypatch, caplog):
    """The plugin's on_config in a project without a remote: no repository, no site_url, the
    Korean line at info level (a warning would fail --strict), so no source/edit/Colab links."""
    from mkdocs.config import load_config

    from kb import notebooks

    project = tmp_path / "copy"
    project.mkdir()
    (project / "mkdocs.yml").write_text((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), encoding="utf-8")
    for name in ("docs", "overrides", "snippets", "kb"):
        (project / name).symlink_to(ROOT / name)
    for name in ("KB_REPOSITORY", "KB_SITE_URL", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(project)
    config = load_config(str(project / "mkdocs.yml"))
    with caplog.at_level(logging.INFO, logger="mkdocs.plugins.kb"):
        config = config.plugins.on_config(config)
    assert config["extra"]["repository"] is None and config["site_url"] is None
    notes = [r for r in caplog.records if "저장소 주소를 알 수 없습니다" in r.getMessage()]
    assert len(notes) == 1 and notes[0].levelno == logging.INFO, caplog.text
    assert notebooks.colab_url(config["extra"], "docs/notebooks/attention.ipynb") is None


# --- the shared build carries the address it is published at -----------------------------------


def test_sitemap_and_canonical_links_carry_the_published_address(built_site):
    locs = [el.text for el in ET.parse(built_site / "sitemap.xml").iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    pages = site_pages(built_site)
    assert sorted(locs) == sorted(SITE_URL + p for p in pages)
    for path in pages:
        html = (built_site / path / "index.html").read_text(encoding="utf-8")
        links = BeautifulSoup(html, "html.parser", parse_only=SoupStrainer("link", rel="canonical"))
        assert [link["href"] for link in links.find_all("link")] == [SITE_URL + path], path


def test_404_page_loads_from_the_published_path(built_site):
    soup = BeautifulSoup((built_site / "404.html").read_text(encoding="utf-8"), "html.parser")
    fetched = [el["href"] for el in soup.select("link[href]")] + [el["src"] for el in soup.select("script[src]")]
    assert len(fetched) >= 5
    base = urlsplit(SITE_URL).path
    assert all(url.startswith(base) for url in fetched), fetched


def test_source_edit_and_colab_links_name_the_one_repository(built_site):
    """Every link into a repository on github.com or Colab names SITE_REPOSITORY: none is left
    pointing at the placeholder (dl-study/knowledge-base) or anywhere else."""
    owner_repo = urlsplit(SITE_REPOSITORY).path  # /example-owner/knowledge-base
    seen = {"source": 0, "edit": 0, "colab": 0}
    for html in sorted(built_site.rglob("*.html")):
        text = html.read_text(encoding="utf-8")
        assert "dl-study/knowledge-base" not in text, html
        for a in BeautifulSoup(text, "html.parser", parse_only=SoupStrainer("a", href=True)).find_all("a"):
            href = a["href"]
            if "kb-page-facts__source" in a.get("class", []) or "kb-page-facts__edit" in a.get("class", []):
                kind = "source" if "kb-page-facts__source" in a["class"] else "edit"
                assert href.startswith(f"{SITE_REPOSITORY}/{'blob' if kind == 'source' else 'edit'}/main/docs/"), href
                seen[kind] += 1
            elif href.startswith("https://colab.research.google.com/"):
                assert href.startswith(f"https://colab.research.google.com/github{owner_repo}/blob/main/docs/notebooks/")
                seen["colab"] += 1
    assert seen["source"] == seen["edit"] >= 15 and seen["colab"] == 2, seen
