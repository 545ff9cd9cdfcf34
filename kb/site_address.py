"""Where the site is published and which repository it is built from, without MkDocs.

The page's "원본 보기 · 이 페이지 고치기" links, each notebook's "Colab에서 열기" button (the
repository) and MkDocs's ``site_url`` (sitemap.xml, canonical links, the 404 page's paths under a
project path) come from :func:`derive`, first answer wins:

repository (``https://github.com/OWNER/REPO``)
  1. ``KB_REPOSITORY`` in the environment; 2. mkdocs.yml ``extra.repository``, else ``repo_url``
  (Material's setting; one on another host means no links); 3. GitHub Actions:
  ``GITHUB_SERVER_URL``/``GITHUB_REPOSITORY``; 4. ``git remote get-url origin``
  (``https://github.com/OWNER/REPO(.git)``, ``git@github.com:OWNER/REPO(.git)``,
  ``ssh://git@github.com/OWNER/REPO``).
site_url
  1. mkdocs.yml ``site_url`` (or the address ``mkdocs serve`` gives it); 2. ``KB_SITE_URL`` in the
  environment (the Pages workflow passes the address actions/configure-pages reports);
  3. the GitHub Pages address of the repository: ``https://OWNER.github.io/REPO/``, or
  ``https://OWNER.github.io/`` for a repository named ``OWNER.github.io``.

Only github.com counts: Colab opens notebooks from github.com alone, and GitHub Pages of another
server (GitHub Enterprise) or another host (GitLab, a local path such as a clone of a clone) has
addresses this module cannot know. Such a remote, like no remote, leaves the repository unknown:
no source, edit or Colab links rather than links to a wrong repository, and :attr:`Address.note`
says why in one Korean line (the plugin logs it at info level). Without a site_url, MkDocs's
relative links still work wherever the folder is served. A setting that is given but malformed
raises :class:`AddressError` naming the setting.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

GITHUB = "https://github.com"
_NAME = r"[A-Za-z0-9_.-]+"
# https://github.com/OWNER/REPO(.git)(/), git@github.com:OWNER/REPO(.git), ssh://git@github.com(:22)/OWNER/REPO
_REMOTE_FORMS = [
    re.compile(rf"^https://(?:[^@/]+@)?github\.com/({_NAME})/({_NAME}?)(?:\.git)?/?$", re.I),
    re.compile(rf"^git@github\.com:({_NAME})/({_NAME}?)(?:\.git)?/?$", re.I),
    re.compile(rf"^ssh://git@github\.com(?::22)?/({_NAME})/({_NAME}?)(?:\.git)?/?$", re.I),
]


class AddressError(ValueError):
    """A repository or site address given in a setting that cannot be used; names the setting."""


@dataclass(frozen=True)
class Address:
    repository: str | None  # https://github.com/OWNER/REPO, or None: no source/edit/Colab links
    site_url: str | None  # ends in "/", or None: no sitemap locations or canonical links
    note: str | None = None  # why the repository is unknown and what is left out (one Korean line)


def github_repository(url: str) -> str | None:
    """``https://github.com/OWNER/REPO`` for a github.com remote or address, else None."""
    for form in _REMOTE_FORMS:
        m = form.match(url.strip())
        if m:
            return f"{GITHUB}/{m[1]}/{m[2]}"
    return None


def pages_url(repository: str) -> str:
    """The GitHub Pages address of a github.com repository (:func:`github_repository`'s form)."""
    owner, repo = repository.removeprefix(GITHUB + "/").split("/")
    host = f"{owner.lower()}.github.io"
    return f"https://{host}/" if repo.lower() == host else f"https://{host}/{repo}/"


def git_remote(project: Path) -> str | None:
    """``git remote get-url origin`` in ``project``; None without git, a repository or an origin."""
    try:
        result = subprocess.run(["git", "remote", "get-url", "origin"], cwd=project, capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (result.stdout.strip() or None) if result.returncode == 0 else None


def derive(project: Path, env: dict[str, str] | None = None, *, config_repository: str | None = None,
           config_repo_url: str | None = None, config_site_url: str | None = None) -> Address:
    """The repository and site address of the project in folder ``project`` (see the module's
    docstring for the order); ``config_*`` are mkdocs.yml's ``extra.repository``, ``repo_url`` and
    ``site_url`` (empty: not set)."""
    env = os.environ if env is None else env
    repository, why = _repository(project, env, config_repository, config_repo_url)
    site_url = config_site_url or _site_url(env.get("KB_SITE_URL", "")) or (
        pages_url(repository) if repository else None)
    if site_url and not site_url.endswith("/"):
        site_url += "/"
    note = None
    if repository is None:
        left_out = "링크" + ("" if site_url else ", site_url(sitemap.xml의 주소, canonical 링크)")
        note = (f"kb: 저장소 주소를 알 수 없습니다({why}). '원본 보기 · 이 페이지 고치기'와 'Colab에서 열기' "
                f"{left_out} 없이 빌드합니다. KB_REPOSITORY=https://github.com/OWNER/REPO"
                f"{'' if site_url else ' (또는 KB_SITE_URL)'}로 정할 수 있습니다.")
    return Address(repository, site_url, note)


def _repository(project: Path, env, config_repository: str | None,
                config_repo_url: str | None) -> tuple[str | None, str]:
    """(repository, why it is unknown) by the first source that answers."""
    for setting, value in (("KB_REPOSITORY", env.get("KB_REPOSITORY", "")),
                           ("mkdocs.yml extra.repository", config_repository or "")):
        if value.strip():
            repository = github_repository(value)
            if repository is None:
                raise AddressError(f"{setting}: https://github.com/OWNER/REPO 형식이어야 합니다 (받은 값: {value!r})")
            return repository, ""
    if config_repo_url:  # Material's own setting may name another host: then there are no links
        return github_repository(config_repo_url), f"mkdocs.yml repo_url({config_repo_url})이 github.com 저장소가 아님"
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", GITHUB).rstrip("/")
        if server.lower() != GITHUB:
            return None, f"GitHub Actions 서버 {server}는 github.com이 아님"
        repository = github_repository(f"{GITHUB}/{env['GITHUB_REPOSITORY']}")
        return repository, f"GITHUB_REPOSITORY({env['GITHUB_REPOSITORY']!r})가 OWNER/REPO 형식이 아님"
    remote = git_remote(project)
    if remote is None:
        return None, "git 원격 저장소 origin이 없음"
    repository = github_repository(remote)
    shown = re.sub(r"//[^/@]*@", "//", remote)  # never log a token in https://user:token@host/...
    return repository, f"git 원격 저장소 origin({shown})이 github.com 저장소가 아님"


def _site_url(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AddressError(f"KB_SITE_URL: http(s)://로 시작하는 주소여야 합니다 (받은 값: {value!r})")
    return value
