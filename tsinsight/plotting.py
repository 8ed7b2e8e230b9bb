"""Plotting helpers shared by every page, so that a method has one colour across the whole book."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np

from tsinsight.report import method_label

# One colour per attribution method (tsinsight.attribution.TABLE) and model variant, all distinct. The headline
# variants get fixed strong hues; the others take tab20's strong hues first (in the order of _BY_PROMINENCE, so
# the variants of Figs. 1-2 and the common baselines stay readable), then its pale ones.
_FIXED = {"tsinsight": "#d62728", "palacio": "#1f77b4", "classifier": "#2ca02c", "input": "#444444", "none": "#7f7f7f"}
_TAB20 = [mpl.colors.to_hex(color) for color in mpl.colormaps["tab20"].colors]
_POOL = iter(c for c in _TAB20[0::2] + _TAB20[1::2] if c not in _FIXED.values())
_BY_PROMINENCE = [
    "autoencoder", "sparsity_only", "gradient", "integrated_gradients", "occlusion", "gradcam", "saliency",
    "guided_backprop", "smoothgrad", "gradient_x_input", "guided_gradcam", "input_magnitude", "random",
]  # fmt: skip
# The methods published after the paper (tsinsight.attribution.LATER_METHODS) take dark hues of tab20b, which tab20
# lacks: what is left of tab20's pool is pale. The colours above stay where they were.
_LATER = {"extremal_mask": "#393b79", "dynamic_mask": "#637939", "deeplift": "#8c6d31", "gradient_shap": "#7b4173"}
METHOD_COLORS: dict[str, str] = dict(_FIXED) | {name: next(_POOL) for name in _BY_PROMINENCE} | _LATER


def method_color(name: str) -> str:
    """The book-wide colour of a method or model variant (grey for names the book does not know)."""
    return METHOD_COLORS.get(name, "#999999")


def plot_series(ax, x, *, channel_names=None, title=None, color=None, alpha=1.0, label_channels=True):
    """Draw a ``(channels, length)`` series on ``ax``, one line per channel."""
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"plot_series expects a (channels, length) array, got shape {x.shape}")
    names = list(channel_names) if channel_names is not None else [f"channel {c}" for c in range(len(x))]
    if len(names) != len(x):
        raise ValueError(f"{len(names)} channel names for {len(x)} channels")
    steps = np.arange(x.shape[1])
    for channel, name in zip(x, names, strict=True):
        ax.plot(steps, channel, lw=1.0, alpha=alpha, color=color if len(x) == 1 else None, label=name)
    ax.set_xlabel("time step")
    if title:
        ax.set_title(title)
    if label_channels and len(x) > 1:
        ax.legend(loc="upper right", fontsize="small", ncol=min(len(x), 4))
    return ax


# Figure sizes in inches, set once for the whole book. Every figure is PAGE_WIDTH wide: at the book's 100 dpi that
# is the width of the page's main column, so a figure is shown at its own size, never scaled down to a thumbnail.
PAGE_WIDTH = 9.0
_HEIGHTS = {
    "plot": 4.0,  # one axes
    "row": 3.6,  # side-by-side panels (two or three)
    "grid": 2.8,  # each row of a grid of small panels (see panel_grid)
    "stack": 1.6,  # each panel of a column of series sharing their time axis
    "tall": 6.5,  # one axes that needs height: surfaces, many labelled bars
}


def figsize(kind: str = "plot", rows: int = 1) -> tuple[float, float]:
    """The book-wide ``(width, height)`` of a figure of ``kind`` (see ``_HEIGHTS``) with ``rows`` rows of panels."""
    if kind not in _HEIGHTS:
        raise ValueError(f"unknown figure kind {kind!r}; the kinds are {', '.join(_HEIGHTS)}")
    return PAGE_WIDTH, _HEIGHTS[kind] * rows


def panel_grid(panels: int, columns: int = 3, **subplots):
    """A figure of ``panels`` small axes, ``columns`` per row, sized by :func:`figsize`; unused axes are hidden.

    Returns the figure and the flat list of the ``panels`` axes in use.
    """
    columns = min(columns, panels)
    rows = -(-panels // columns)
    fig, axes = plt.subplots(rows, columns, figsize=figsize("grid", rows), squeeze=False, **subplots)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:panels])


# The book's theme is seaborn's "whitegrid" style at its "notebook" context (``sns.set_theme(context="notebook",
# style="whitegrid")``, seaborn 0.13), written out: importing seaborn for it cost every page about 1.7 s (seaborn
# loads SciPy's statistics), and the book used nothing else of seaborn. tests/test_plotting.py checks that these are
# still exactly the settings seaborn makes, all but its default colour map "rocket", which only seaborn defines (every
# image of the book names its own colour map) and its remapping of the one-letter colour codes ("k" became ".1";
# the book writes ".1" where it meant seaborn's "k").
_DEEP = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"]
_DEEP_CYCLE = mpl.cycler(color=[mpl.colors.to_rgb(color) for color in _DEEP])  # seaborn's "deep" palette, as RGB
BOOK_THEME = {
    "axes.axisbelow": True, "axes.edgecolor": ".8", "axes.grid": True, "axes.labelcolor": ".15",
    "axes.labelsize": 12.0, "axes.linewidth": 1.25, "axes.prop_cycle": _DEEP_CYCLE, "axes.titlesize": 12.0,
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": 12.0, "grid.color": ".8", "grid.linewidth": 1.0, "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0, "lines.solid_capstyle": "round", "patch.edgecolor": "w",
    "patch.force_edgecolor": True, "text.color": ".15", "xtick.bottom": False, "xtick.color": ".15",
    "xtick.labelsize": 11.0, "xtick.major.size": 6.0, "xtick.major.width": 1.25, "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0, "ytick.color": ".15", "ytick.labelsize": 11.0, "ytick.left": False,
    "ytick.major.size": 6.0, "ytick.major.width": 1.25, "ytick.minor.size": 4.0, "ytick.minor.width": 1.0,
}  # fmt: skip


def use_book_style() -> None:
    """The figure style of every page: :data:`BOOK_THEME` over the current settings (as seaborn's ``set_theme``), at
    the book's figure size and 100 dpi."""
    plt.rcParams.update(BOOK_THEME)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "figure.figsize": figsize("plot")})


def critical_difference_diagram(cd_result, ax=None, labels=None, highlight="tsinsight"):
    """Demšar's critical difference diagram of a :func:`tsinsight.evaluation.ranking.critical_difference` result.

    Methods sit at their mean rank (1 = best, on the left), labelled on both sides; the bar above the axis spans
    the critical difference and thick lines join the methods the Nemenyi test cannot tell apart. ``labels``
    maps method → label (default :func:`method_label`); the ``highlight`` method's label is set in bold.
    Returns the axes.
    """
    # scikit-posthocs draws the diagram (maintained, and its Nemenyi p-values match ours); imported here because
    # it loads statsmodels, which the rest of the book's plotting does not need. Its own CD bar sits on the tick
    # labels, so the bar is drawn here, higher up.
    import scikit_posthocs

    names = {method: (labels or {}).get(method, method_label(method)) for method in cd_result.ranks.index}
    ranks = cd_result.ranks.rename(index=names)
    if ax is None:
        _, ax = plt.subplots(figsize=(PAGE_WIDTH, 1.5 + 0.3 * len(ranks)))
    artists = scikit_posthocs.critical_difference_diagram(
        ranks,
        cd_result.p_values.rename(index=names, columns=names),
        alpha=cd_result.alpha,
        ax=ax,
        label_fmt_left="{label} ({rank:.2f})",
        label_fmt_right="({rank:.2f}) {label}",
        color_palette={names[method]: method_color(method) for method in names},
        crossbar_props={"linewidth": 4},
    )
    best = ranks.iloc[0]
    ax.plot([best, best + cd_result.cd], [2, 2], color=".1", lw=2)
    ax.text(best + cd_result.cd / 2, 2.3, f"CD = {cd_result.cd:.2f}", ha="center", va="bottom")
    ax.set_ylim(top=3.5)
    if highlight in names:
        label, rank = names[highlight], cd_result.ranks[highlight]
        for text in artists["labels"]:
            if text.get_text() in {f"{label} ({rank:.2f})", f"({rank:.2f}) {label}"}:
                text.set_fontweight("bold")
    ax.set_title(f"mean rank over {cd_result.datasets} data sets, Nemenyi test at α = {cd_result.alpha:g}")
    return ax


def rank_bars(ranking, ax, *, xlabel: str, title: str) -> None:
    """Mean ranks (``mean_rank`` with its interval ``rank_low``–``rank_high``, one row per ``method``) as bars in the
    methods' colours, the best on top."""
    labels = [method_label(method) for method in ranking["method"]]
    errors = [ranking["mean_rank"] - ranking["rank_low"], ranking["rank_high"] - ranking["mean_rank"]]
    ax.barh(labels, ranking["mean_rank"], color=[method_color(method) for method in ranking["method"]])
    ax.errorbar(ranking["mean_rank"], labels, xerr=errors, fmt="none", ecolor="black", capsize=3, lw=1)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)


def table3_differences(compared, ax, *, title: str) -> None:
    """Our accuracy minus the paper's per data set (rows of ``experiments.compare_table3``), for the classifier alone
    and with TSInsight in front, as bars with one standard deviation over runs."""
    positions = np.arange(len(compared))
    for offset, model in ((-0.2, "classifier"), (0.2, "tsinsight")):
        ax.bar(positions + offset, compared[f"{model}_diff"], width=0.4, yerr=compared[f"{model}_std"].fillna(0),
               color=method_color(model), label=method_label(model))  # fmt: skip
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(positions, compared["label"], rotation=20, ha="right")
    ax.set_ylabel("ours − paper (percentage points)")
    ax.set_title(title)
    ax.legend()
