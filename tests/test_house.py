"""The shape of the package: the library stands without the book, no import cycle, pages declared once."""

import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tsinsight
from tsinsight import attribution, claims, paper, plotting, zoo
from tsinsight.evaluation import suppress
from tsinsight.runner import plan

PACKAGE = Path(tsinsight.__file__).parent
# The library: what a researcher uses on their own model. It must not reach into the book's side.
LIBRARY = ["data", "models", "training", "checks", "explainer", "tuning", "stacking", "attribution", "evaluation",
           "artifacts", "paper"]  # fmt: skip
BOOK_SIDE = {"zoo", "experiments", "claims", "results", "report", "runner", "book", "plotting", "profiles", "explorer"}
# (matplotlib is not among them: Captum itself needs it.)
BOOK_TOOLS = ["papermill", "nbformat", "distributed", "dask", "jupyter_book", "sphinx", "seaborn",
              "IPython", "yaml", "scikit_posthocs", "ipykernel", "bokeh"]  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every ``tsinsight`` module that ``path`` imports, at module level or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("tsinsight")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tsinsight"):
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py").exists() or (
                    PACKAGE.parent / candidate.replace(".", "/") / "__init__.py"
                ).exists()
                found.add(candidate if is_module else node.module)
    return found


def _graph() -> dict[str, set[str]]:
    return {_module_name(path): _imports(path) for path in PACKAGE.rglob("*.py")}


def test_the_library_imports_nothing_of_the_book():
    graph = _graph()
    offending = {
        module: sorted(target for target in targets if target.split(".")[1] in BOOK_SIDE)
        for module, targets in graph.items()
        if module.split(".")[1:2] and module.split(".")[1] in LIBRARY
    }
    assert {module: targets for module, targets in offending.items() if targets} == {}


def test_no_module_imports_one_that_imports_it_back():
    graph = _graph()
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if state.get(target) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*path[path.index(target) :], target]))
            if target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_the_top_level_namespace_is_its_all():
    submodules = {path.stem for path in PACKAGE.glob("*.py")} | {
        path.name for path in PACKAGE.iterdir() if path.is_dir()
    }
    public = {name for name in dir(tsinsight) if not name.startswith("_") and name not in submodules}
    assert public == set(tsinsight.__all__) - {"__version__"}


def test_the_readme_own_model_code_runs_without_the_book_tools(tmp_path):
    readme = (PACKAGE.parent / "README.md").read_text()
    section = readme[readme.index("## Using the package on your own model") :]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "max_epochs=200" in code
    code = code.replace("max_epochs=200", "max_epochs=3")  # the same calls, on a budget a test can afford
    blocker = textwrap.dedent(
        f"""
        import importlib.abc, sys
        BLOCKED = {BOOK_TOOLS!r}
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in BLOCKED:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: a book tool)")
        sys.meta_path.insert(0, Block())
        import numpy as np, torch
        rng = np.random.default_rng(0)
        x_train, x_test = rng.normal(size=(80, 2, 16)).astype("float32"), rng.normal(size=(40, 2, 16)).astype("float32")
        y_train, y_test = (x_train[:, 0, 8] > 0).astype(int), (x_test[:, 0, 8] > 0).astype(int)
        from tsinsight.models import CNNClassifier
        my_classifier = CNNClassifier(2, 2, 16)
        """
    )
    script = tmp_path / "own_model.py"
    script.write_text(blocker + code + "\nassert not [m for m in sys.modules if m.split('.')[0] in BLOCKED]\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "gamma" in done.stdout


def test_every_method_has_one_row_a_label_and_a_colour():
    assert len(attribution.METHODS) == 13 and set(attribution.EXPLAINER_METHODS) == {"tsinsight", "palacio"}
    for name, method in attribution.TABLE.items():
        assert method.kind in ("baseline", "explainer", "model")
        assert (method.compute is None) == (method.kind == "explainer")
        assert plotting.method_color(name) != "#999999", f"{name} has no colour of its own"
    assert len(set(plotting.METHOD_COLORS.values())) == len(plotting.METHOD_COLORS)
    assert attribution.label("guided_gradcam") == "Guided GradCAM" and attribution.label("mine") == "mine"


def test_each_deletion_order_declares_its_direction():
    assert suppress.score(0.8, "lerf") == 0.8 and suppress.score(0.8, "morf") == pytest.approx(0.2)
    with pytest.raises(ValueError, match="unknown order"):
        suppress.score(0.5, "random")


def test_the_claims_come_from_the_notebooks_declarations():
    declared = dict(plan.claim_sources())
    assert set(declared) == set(claims.JUDGES)
    assert declared["Table 3"] == "accuracy_" and declared["Fig. 4"] == "ranking_suppression"


def test_every_notebook_declares_the_tables_it_saves():
    for path in sorted(plan.NOTEBOOKS.glob("*.ipynb")):
        source = "".join("".join(cell["source"]) for cell in json.loads(path.read_text())["cells"])
        saved = set(re.findall(r'results\.save\(\s*f?"([^"]+)"', source))
        assert saved == set(plan.declaration(path.stem).get("writes", [])), path.name


def test_a_data_set_outside_the_paper_starts_its_tuning_at_table_2():
    assert paper.starting_weights("synthetic_anomaly") == paper.hyperparameters("synthetic_anomaly")
    assert paper.starting_weights("mine") == (paper.TABLE2["gamma"], paper.TABLE2["beta"])
    assert zoo.default_weights("mine", "smoke", "tsinsight", weights="table3") == (4.0, 1e-4)


def test_importing_the_package_leaves_captum_scipy_stats_and_sklearn_for_their_first_use():
    """Every page is a fresh kernel: an import the page does not need costs the book its time once per page (the
    plotting module's theme included: seaborn loads SciPy's statistics)."""
    code = (
        "import sys, tsinsight, tsinsight.zoo, tsinsight.report, tsinsight.experiments, tsinsight.claims; "
        "import tsinsight.plotting; tsinsight.plotting.use_book_style(); "
        "print(sorted(m for m in ('captum', 'scipy.stats', 'sklearn', 'seaborn') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr[-2000:]
    from tsinsight.imports import captum

    assert captum().Saliency.__module__.startswith("captum.attr")
    assert hasattr(captum("metrics"), "infidelity") and hasattr(captum("robust"), "FGSM")
