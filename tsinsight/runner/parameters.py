"""The notebooks' papermill parameters, checked before any kernel starts.

Names and defaults come from papermill's own inference (``papermill.inspect_notebook``); values are checked
against the domain of the parameters that mean the same in every notebook (:data:`DOMAINS`: data sets,
profiles, weights, seeds, ...) or else against the notebook's type annotation or its default's type. An unknown
name, a value of the wrong type or one outside its domain is an error that says what the notebook takes.
"""

from __future__ import annotations

import ast
import difflib
import math

import pandas as pd
import papermill

from tsinsight import data
from tsinsight.models import CLASSIFIERS
from tsinsight.profiles import PROFILES
from tsinsight.runner import plan


def notebook_parameters() -> pd.DataFrame:
    """Every notebook's papermill parameters with their defaults and help (what ``make help`` prints)."""
    rows = [
        dict(
            notebook=path.stem,
            parameter=name,
            type=spec["inferred_type_name"],
            default=spec["default"],
            help=spec["help"],
        )
        for path in sorted(plan.NOTEBOOKS.glob("*.ipynb"))
        for name, spec in papermill.inspect_notebook(str(path)).items()
    ]
    return pd.DataFrame(rows)


def declared_parameters(notebook: str) -> dict[str, dict]:
    """The papermill parameters of ``notebooks/<notebook>.ipynb`` (name → inferred type, default, help)."""
    source = plan.NOTEBOOKS / f"{notebook}.ipynb"
    if not source.exists():
        known = sorted(path.stem for path in plan.NOTEBOOKS.glob("*.ipynb"))
        raise FileNotFoundError(f"no notebook {source.name} in {plan.NOTEBOOKS}; the notebooks are: {', '.join(known)}")
    return papermill.inspect_notebook(str(source))


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


CHOICES = {"profile": sorted(PROFILES), "dataset": data.available(), "kind": sorted(CLASSIFIERS)}


def _choice(options):
    return (lambda value: isinstance(value, str) and value in options), f"one of {', '.join(options)}", options[0]


def _weight(value) -> bool:
    return value is None or (_is_number(value) and value >= 0)


def _count(value) -> bool:
    return _is_int(value) and value >= 1


def _seed(value) -> bool:
    return _is_int(value) and value >= 0


def _grid(value) -> bool:
    return isinstance(value, list) and len(value) > 0 and all(_is_number(e) and e >= 0 for e in value)


# The domain of the parameters whose name means the same in every notebook: (accepts, what it takes, an example).
DOMAINS = {
    **{name: _choice(options) for name, options in CHOICES.items()},
    "gamma": (_weight, "a finite number >= 0, or None", 1.0),
    "beta": (_weight, "a finite number >= 0, or None", 0.001),
    "runs": (lambda v: v is None or _count(v), "a positive integer, or None", 2),
    "examples": (_count, "a positive integer", 2),
    "instances": (_count, "a positive integer", 3),
    "seed": (_seed, "an integer >= 0", 0),
    "run": (_seed, "an integer >= 0", 0),
    "direction_seed": (_seed, "an integer >= 0", 0),
    **{
        name: (_grid, "a non-empty list of finite numbers >= 0", [0.0, 0.1]) for name in ("gammas", "betas", "epsilons")
    },
}


def as_cli(value) -> str:
    """``value`` as written after ``name=`` on the command line (strings bare, lists without spaces)."""
    return value if isinstance(value, str) else repr(value).replace(" ", "")


def _default_domain(default, annotated: str = "None"):
    """What a parameter without a known domain takes: its annotated type (papermill's inference), else its default's."""
    typed = {"int": 0, "float": 0.0, "str": "", "bool": False, "list": [], "dict": {}}.get(annotated.split("[")[0])
    if typed is not None and not isinstance(default, type(typed)):
        accepts, takes, _ = _default_domain(typed)
        return accepts, takes, default
    if isinstance(default, bool):
        return (lambda v: isinstance(v, bool)), "True or False", default
    if isinstance(default, int):
        return _is_int, "an integer", default
    if isinstance(default, float):
        return _is_number, "a finite number", default
    if isinstance(default, str):
        return (lambda v: isinstance(v, str)), "a string", default
    if isinstance(default, (list, tuple, dict)):
        kind = type(default)
        return (lambda v: isinstance(v, kind)), f"a {kind.__name__} like {default!r}", default
    return (lambda v: True), "anything", default


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def check_parameters(notebook: str, parameters: dict) -> None:
    """Raise ``ValueError`` naming every parameter that ``notebook`` does not declare or whose value it cannot take.

    Names and defaults come from papermill's own inference; an unknown name lists the notebook's parameters
    with their defaults, close matches first. Values are checked against :data:`DOMAINS` (data sets, profiles,
    weights, seeds, ...) or else against the type of the default.
    """
    declared = declared_parameters(notebook)
    problems = []
    for name in parameters:
        if name in declared:
            continue
        close = difflib.get_close_matches(name, list(declared), n=3, cutoff=0.6)
        ordered = close + [other for other in declared if other not in close]
        listing = "\n".join(
            f"    {other} = {declared[other]['default']}"
            + (f"  # {declared[other]['help']}" if declared[other]["help"] else "")
            for other in ordered
        )
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        problems.append(f"{notebook}.ipynb has no parameter {name!r}{hint}; its parameters are:\n{listing}")
    for name, value in parameters.items():
        if name not in declared:
            continue
        default = _literal(declared[name]["default"])
        accepts, takes, example = DOMAINS.get(name) or _default_domain(default, declared[name]["inferred_type_name"])
        if name in CHOICES and isinstance(value, str):
            example = (difflib.get_close_matches(value, CHOICES[name], n=1) or [example])[0]
        if not accepts(value):
            problems.append(
                f"{name}={as_cli(value)} is not valid for {notebook}.ipynb: {name} takes {takes} (default {default!r}); "
                f'fix it, e.g. make notebook NB={notebook} P="{name}={as_cli(example)}"'
            )
    if problems:
        raise ValueError("\n".join(problems))


def parse_assignments(pairs: list[str]) -> dict:
    """``["beta=0.001", "dataset=ford_a"]`` → ``{"beta": 0.001, "dataset": "ford_a"}`` (Python literals or strings)."""
    parameters = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f'parameters are key=value pairs, got {pair!r} (example: P="dataset=ford_a beta=0.001")')
        try:
            parameters[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[key] = value
    return parameters


def with_default_dataset(notebook: str, parameters: dict) -> dict:
    """Name the data set a per-data-set notebook runs on even when the caller left it at its default.

    The page's place in the book (``generated/<notebook>/<dataset>.ipynb``) depends on it.
    """
    source = plan.NOTEBOOKS / f"{notebook}.ipynb"
    if "dataset" in parameters or not source.exists() or not plan.Run(notebook).per_dataset:
        return parameters
    declared = papermill.inspect_notebook(str(source))
    if "dataset" not in declared:
        return parameters
    return {"dataset": ast.literal_eval(declared["dataset"]["default"]), **parameters}
