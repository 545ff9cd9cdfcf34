"""`kb` is an installable package (pyproject.toml) whose MkDocs plugin replaces the hooks (issue #24).

The entry points are read from the installed distribution (what MkDocs and ProperDocs look up),
the plugin class is compared with MkDocs' own event list, and ``python -m kb serve`` / ``test`` are
run for real: serve until the home page answers, test on one small test file.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from importlib import metadata

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import ROOT, copy_project

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")


def _distribution() -> metadata.Distribution:
    for dist in metadata.distributions():
        if dist.metadata["Name"] == PYPROJECT["project"]["name"]:
            return dist
    pytest.fail(f"{PYPROJECT['project']['name']} is not installed: run `python -m pip install -e .` (make does)")


# --- the package --------------------------------------------------------------------------


def test_pyproject_declares_the_command_the_plugin_and_mkdocs_1_6():
    project = PYPROJECT["project"]
    assert project["scripts"] == {"kb": "kb.cli:main"}
    assert project["entry-points"]["mkdocs.plugins"] == {"kb": "kb.plugin:KbPlugin"}
    assert "mkdocs>=1.6,<2" in [d.split("#")[0].strip() for d in project["dependencies"]]
    assert PYPROJECT["build-system"]["build-backend"] == "setuptools.build_meta"
    assert not any(d.startswith("torch") for d in project["dependencies"])  # requirements.txt pins it


def test_the_installed_distribution_registers_the_plugin_and_the_command():
    entry_points = _distribution().entry_points
    plugin = next(e for e in entry_points if e.group == "mkdocs.plugins" and e.name == "kb")
    from kb.plugin import KbPlugin

    assert plugin.load() is KbPlugin
    script = next(e for e in entry_points if e.group == "console_scripts" and e.name == "kb")
    assert script.value == "kb.cli:main"


def test_requirements_pin_exact_versions_within_the_packages_ranges():
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep and version, f"requirements.txt: {line!r} is not pinned with =="
            pins[name.lower()] = version
    assert pins["torch"] == "2.13.0"
    major, minor = map(int, pins["mkdocs"].split(".")[:2])
    assert (major, minor) >= (1, 6) and major < 2
    for dependency in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(dependency)
        name = requirement.name.lower()
        assert name in pins, f"pyproject.toml depends on {name}, which requirements.txt does not pin"
        assert requirement.specifier.contains(pins[name]), f"requirements.txt: {name}=={pins[name]} is outside {requirement}"


def test_make_installs_requirements_then_the_package_editable():
    recipe = MAKEFILE.split("$(STAMP): requirements.txt pyproject.toml\n", 1)[1].split("\n\n", 1)[0]
    requirements = recipe.index("pip install --quiet -r requirements.txt")
    assert requirements < recipe.index("pip install --quiet -e .")


def test_no_sys_path_edits_or_module_globals_hold_build_state():
    for name in ["plugin.py", "pages.py", "search_ko.py", "notebook_css.py"]:
        text = (ROOT / "kb" / name).read_text(encoding="utf-8")
        assert "sys.path" not in text, name
        assert not re.search(r"^\s+global ", text, re.M), f"kb/{name} keeps build state in a module global"
    assert not (ROOT / "kb" / "mkdocs_hooks.py").exists()
    assert not list((ROOT / "kb").glob("bench_*.py"))  # benchmarks/ holds them


# --- the plugin replaces the hooks ----------------------------------------------------------


def test_mkdocs_yml_lists_the_plugin_last_and_no_hooks():
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader)
    assert "hooks" not in config
    names = [p if isinstance(p, str) else next(iter(p)) for p in config["plugins"]]
    assert names[-1] == "kb" and {"search", "mkdocs-jupyter"} < set(names)  # after every plugin, as hooks ran
    assert {"snippets", "kb"} <= set(config["watch"])


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!ENV", lambda loader, node: None)

# The order in which one `mkdocs build` calls the events (mkdocs/commands/build.py), then what
# `mkdocs serve` calls once after its first build (serve), then the end.
BUILD_ORDER = ["startup", "config", "pre_build", "files", "nav", "pre_page", "page_read_source", "page_markdown",
               "page_content", "env", "pre_template", "template_context", "post_template", "page_context", "post_page",
               "post_build", "build_error", "serve", "shutdown"]


def _handlers(event: str):
    from mkdocs.plugins import CombinedEvent

    from kb.plugin import KbPlugin

    method = vars(KbPlugin)[f"on_{event}"]
    return list(method.methods) if isinstance(method, CombinedEvent) else [method]


def test_plugin_events_are_written_in_the_order_mkdocs_calls_them():
    from mkdocs.plugins import EVENTS

    from kb.plugin import KbPlugin

    defined = [name[3:] for name in vars(KbPlugin) if name.startswith("on_")]
    assert set(defined) <= set(EVENTS) and set(BUILD_ORDER) == set(EVENTS)
    assert defined == sorted(defined, key=BUILD_ORDER.index)


def test_plugin_keeps_the_priorities_the_hooks_had():
    """kb/mkdocs_hooks.py: on_files -100, on_page_markdown 100; kb/search_ko.py: on_post_build -100;
    kb/notebook_css.py: on_page_content -50; every other handler 0. Added since, for ``--dirty``
    (kb/partial.py): on_page_markdown -49 (just before the tags plugin), on_env 110 (before the tags
    plugin's listings), on_post_build 50 (before the search plugin's index) and -110 (last)."""
    expected = {"files": [0, -100], "page_markdown": [100, -49], "page_content": [0, -50], "env": [110, 0],
                "post_build": [50, 0, -100, -110]}
    for event in ["config", "pre_build", "files", "pre_page", "page_markdown", "page_content", "env",
                  "page_context", "post_build", "build_error", "shutdown"]:
        priorities = [getattr(h, "mkdocs_priority", 0) for h in _handlers(event)]
        assert priorities == expected.get(event, [0]), event


def test_plugin_instances_share_no_build_state():
    from kb.plugin import KbPlugin

    one, two = KbPlugin(), KbPlugin()
    one.sheets["a.css"] = "x"
    one.formulas["p.md"] = []
    assert two.sheets == {} and two.formulas == {} and two.site is None and two.analyzer is None


# --- python -m kb serve / test: make serve / make test without make -------------------------


def test_kb_serve_and_test_use_the_makefiles_address_and_pytest_arguments():
    from kb import tasks

    assert re.search(rf"^HOST\s+\?=\s+{re.escape(tasks.HOST)}$", MAKEFILE, re.M)
    assert re.search(rf"^PORT\s+\?=\s+{tasks.PORT}$", MAKEFILE, re.M)
    assert "$(PY) -m mkdocs serve --strict --dirty --dev-addr $(HOST):$(PORT)" in MAKEFILE
    assert tasks.serve_command()[1:] == ["-m", "mkdocs", "serve", "--strict", "--dirty", "--dev-addr", "127.0.0.1:8000"]
    assert f"$(PY) -m pytest {' '.join(tasks.PYTEST_ARGS)}\n" in MAKEFILE
    assert tasks.pytest_command(["-k", "x"])[1:] == ["-m", "pytest", *tasks.PYTEST_ARGS, "-k", "x"]
    assert "export NO_MKDOCS_2_WARNING := 1" in MAKEFILE and tasks.ENV == {"NO_MKDOCS_2_WARNING": "1"}


def _kb(*args, cwd=ROOT, **kwargs):
    return subprocess.run([sys.executable, "-m", "kb", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), **kwargs)


def test_kb_test_runs_pytest_in_the_project_with_the_arguments_passed_on(tmp_path):
    result = _kb("test", "-n", "0", "-p", "no:cacheprovider", "tests/test_workflow.py", "-k", "readme",
                 cwd=ROOT / "tests", timeout=300)  # from a subfolder: it runs in the project
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert re.search(r"\b1 passed\b", result.stdout), result.stdout[-2000:]
    failing = _kb("test", "-n", "0", "-p", "no:cacheprovider", "tests/test_workflow.py", "-k", "no_such_test",
                  timeout=300)
    assert failing.returncode == 5, failing.stdout[-2000:]  # pytest's own status: no test collected
    outside = _kb("test", cwd=tmp_path, timeout=60)
    assert outside.returncode == 2 and "mkdocs.yml" in outside.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(sys.platform == "win32", reason="sends Ctrl-C to a process group (os.killpg), which Windows lacks")
def test_kb_serve_builds_and_serves_the_home_page_then_stops_on_ctrl_c(tmp_path):
    project = copy_project(tmp_path / "project")
    port = _free_port()
    env = dict(os.environ, KB_EXECUTE="0", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--port", str(port)], cwd=project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True,  # its own process group: Ctrl-C reaches kb and mkdocs
                            # SIGINT as from a terminal: pytest-xdist's workers ignore it, and an ignored
                            # signal stays ignored in the programs they start
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline, home = time.monotonic() + 300, None
        while home is None and time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    home = response.read().decode("utf-8")
            except OSError:
                time.sleep(1)
        assert home is not None, f"no answer on port {port}; kb serve exited {proc.poll()}"
        assert "<title>딥러닝 스터디 지식 베이스</title>" in home
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, _ = proc.communicate()
            pytest.fail("kb serve did not stop within 60 s of Ctrl-C")
    assert f"Serving on http://127.0.0.1:{port}/" in output, output[-3000:]
    assert proc.returncode in (0, 130), output[-3000:]
