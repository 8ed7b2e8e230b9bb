"""Issue 20: the publishing workflow is valid for GitHub Actions, needs no GPU or secret, and builds the edition."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

WORKFLOW = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "book.yml"
LINTER = shutil.which("check-jsonschema") or str(Path(__file__).resolve().parents[1] / ".venv/bin/check-jsonschema")


def lint(path: Path) -> subprocess.CompletedProcess:
    if not Path(LINTER).exists():
        pytest.skip("check-jsonschema is not installed (it is in requirements.txt)")
    return subprocess.run([LINTER, "--builtin-schema", "vendor.github-workflows", str(path)], capture_output=True)


def test_the_workflow_passes_the_linter_and_a_broken_one_does_not(tmp_path):
    assert lint(WORKFLOW).returncode == 0
    broken = yaml.safe_load(WORKFLOW.read_text())
    broken["jobs"]["book"]["steps"][0] = {"uses": "actions/checkout@v4", "runs": "make book"}  # no such key
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(broken))
    assert lint(path).returncode != 0


def test_the_workflow_builds_the_edition_tests_and_publishes_without_secrets():
    text = WORKFLOW.read_text()
    jobs = yaml.safe_load(text)["jobs"]
    assert [step.get("run") for step in jobs["test"]["steps"]] == [None, "make test"]
    assert "make book" in [step.get("run") for step in jobs["book"]["steps"]]  # no PROFILE: the reference edition
    assert jobs["publish"]["needs"] == ["test", "book"]
    assert "secrets." not in text and {job["runs-on"] for job in jobs.values()} == {"ubuntu-latest"}  # no GPU runner
