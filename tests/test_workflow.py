"""The GitHub Actions workflow tests, builds strictly and deploys to Pages; CUDA runs on a GPU runner."""

from __future__ import annotations

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
