"""The GitHub Actions workflow tests, builds strictly and deploys to Pages; CUDA runs on a GPU runner;
macOS and Windows build and run the snippets; ProperDocs builds too; the file matches GitHub's schema.
The test job gets browsers the way GitHub's runners need (Playwright's Chromium, a Firefox ESR where
tests/firefox_bidi.py looks) and the Pages build the address it is served at."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "site.yml"


def load():
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def steps(job) -> list[str]:
    return [s.get("uses", "") or s.get("run", "") for s in job["steps"]]


def test_tests_run_the_readme_command():
    jobs = load()["jobs"]
    assert "make test" in steps(jobs["test"])
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make test" in readme


def test_build_is_strict_and_published_with_pages_actions():
    jobs = load()["jobs"]
    assert jobs["build"]["needs"] == "test"
    assert "make build" in steps(jobs["build"])
    assert "--strict" in (ROOT / "Makefile").read_text(encoding="utf-8").split("build: $(STAMP)", 1)[1].split("\n\n")[0]
    assert any(s.startswith("actions/upload-pages-artifact@") for s in steps(jobs["build"]))
    deploy = jobs["deploy"]
    assert any(s.startswith("actions/deploy-pages@") for s in steps(deploy))
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    every_step = [s for job in load()["jobs"].values() for s in steps(job)]
    assert not [s for s in every_step if "gh-deploy" in s or "gh-pages" in s]  # no gh-pages branch


def test_cuda_job_runs_on_a_self_hosted_gpu_runner():
    job = load()["jobs"]["test-cuda"]
    assert job["runs-on"] == ["self-hosted", "gpu"]
    assert "make test-cuda" in steps(job)
    assert "--device cuda" in (ROOT / "Makefile").read_text(encoding="utf-8")


# --- the workflow is valid, and members' laptops are covered (issue #24) -----------------------


def check_workflow(path) -> subprocess.CompletedProcess:
    """check-jsonschema with the GitHub workflow schema it ships (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True, text=True, timeout=120,
    )


def test_workflow_matches_githubs_schema():
    result = check_workflow(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("breakage", ["no runs-on", "step with run and uses", "unknown trigger"])
def test_a_malformed_workflow_fails_the_schema_check(tmp_path, breakage):
    workflow = load()
    job = workflow["jobs"]["test"]
    if breakage == "no runs-on":
        del job["runs-on"]
    elif breakage == "step with run and uses":
        job["steps"][0]["run"] = "echo both"
    else:
        workflow[True]["pushed"] = workflow[True].pop("push")  # PyYAML reads the key `on` as True
    broken = tmp_path / "site.yml"
    broken.write_text(yaml.safe_dump({("on" if k is True else k): v for k, v in workflow.items()}), encoding="utf-8")
    result = check_workflow(broken)
    assert result.returncode == 1, (breakage, result.stdout + result.stderr)
    assert "Schema validation errors were encountered" in result.stdout + result.stderr


def test_laptop_jobs_build_with_blocks_run_and_test_snippets_on_macos_and_windows():
    job = load()["jobs"]["laptop"]
    assert {os_ for os_ in job["strategy"]["matrix"]["os"] if os_.startswith(("macos", "windows"))} == set(
        job["strategy"]["matrix"]["os"]) and len(job["strategy"]["matrix"]["os"]) == 2
    assert job["runs-on"] == "${{ matrix.os }}"
    run = "\n".join(steps(job))
    assert "make" not in run.split()  # no make on Windows
    assert "python -m pip install -r requirements.txt" in run and "python -m pip install -e ." in run
    assert run.index("-r requirements.txt") < run.index("install -e .")
    build = next(s for s in job["steps"] if "mkdocs build" in s.get("run", ""))
    assert "--strict" in build["run"] and "KB_EXECUTE" not in str(build.get("env", {}))  # blocks run
    assert "python -m pytest tests/test_snippets.py tests/test_rendered_blocks.py" in run


def test_linux_tests_run_the_runner_contract_with_the_portable_runner():
    job = load()["jobs"]["test"]
    step = next(s for s in job["steps"] if "tests/test_runner_*.py" in s.get("run", ""))
    assert step["env"]["KB_RUNNER"] == "portable"
    assert "-m pytest tests/test_runner_*.py" in step["run"]


def test_properdocs_builds_the_site_strictly_in_ci():
    job = load()["jobs"]["properdocs"]
    run = "\n".join(steps(job))
    assert "python -m properdocs build --strict -f mkdocs.yml" in run
    assert "python -m pip install -e ." in run
    assert any(line.startswith("properdocs==") for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines())


# --- browsers on GitHub's runners and the site's address (issues #26 item 6 and #27) -------------


def step_named(job, needle: str) -> dict:
    found = [s for s in job["steps"] if needle in (s.get("uses", "") or s.get("run", ""))]
    assert len(found) == 1, f"{len(found)} steps with {needle!r}"
    return found[0]


def test_tests_get_playwrights_chromium_not_ubuntus_snap_wrapper():
    job = load()["jobs"]["test"]
    names = steps(job)
    install = step_named(job, "playwright install --with-deps chromium")
    assert install["run"].lstrip().startswith(".venv/bin/python -m playwright")  # the venv's Playwright
    venv = names.index(step_named(job, "make .venv/.installed")["run"])
    assert venv < names.index(install["run"]) < names.index("make test")
    apt_chromium = re.compile(r"apt-get install[^\n]*\bchromium")  # a snap wrapper on Ubuntu 24.04
    assert not [s for s in names if apt_chromium.search(s)]
    # the runner image's own Chromium is not the one this Playwright was released with
    assert step_named(job, "make test")["env"]["KB_CHROMIUM"] == "playwright"


def test_tests_get_a_firefox_esr_where_the_firefox_tests_look():
    from firefox_bidi import FIREFOX_CANDIDATES

    job = load()["jobs"]["test"]
    setup = step_named(job, "browser-actions/setup-firefox@")
    assert setup["with"]["firefox-version"] == "latest-esr"
    link = step_named(job, f"{FIREFOX_CANDIDATES[0]}\n")
    assert f"steps.{setup['id']}.outputs.firefox-path" in link["run"]
    assert "ln -sf" in link["run"] and FIREFOX_CANDIDATES[0] == "/usr/bin/firefox-esr"
    names = steps(job)
    assert names.index(link["run"]) < names.index("make test")


def test_pages_build_gets_the_address_it_is_served_at():
    workflow = load()
    build = workflow["jobs"]["build"]
    pages = step_named(build, "actions/configure-pages@")
    make = step_named(build, "make build")
    assert make["env"]["KB_SITE_URL"] == f"${{{{ steps.{pages['id']}.outputs.base_url }}}}"
    assert steps(build).index(pages["uses"]) < steps(build).index("make build")
    assert build["permissions"]["pages"] in ("read", "write")  # configure-pages reads the Pages site
    assert workflow["jobs"]["deploy"]["needs"] == "build" and build["needs"] == "test"
    # the repository comes from GITHUB_REPOSITORY (kb/site_address.py), never a written-in address
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "KB_REPOSITORY:" not in text and "dl-study" not in text
