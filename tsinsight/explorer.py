"""The Explore page's interactive figure: Bokeh, standalone, with its JavaScript inline — no kernel, server or network.

:func:`explorer_html` turns what :func:`tsinsight.experiments.explore.explorer_data` gathered for each data set into one
HTML fragment: Bokeh's library (its core and widgets, inline), the figures, and every number they can show, so that
the page works from ``file://`` and on the published site alike. The reader picks a data set, a test series and a
method, and slides along the tuning ladder; one JavaScript callback (:data:`_UPDATE_JS`) redraws from the data the
fragment carries. Bokeh serialises the arrays as compressed binary, so the data of seven data sets stays near a
megabyte; :data:`MAX_BYTES` caps the whole fragment.
"""

from __future__ import annotations

import numpy as np
from bokeh.document import Document
from bokeh.embed import components
from bokeh.layouts import column, row
from bokeh.models import ColumnDataSource, CustomJS, Div, HoverTool, Select, Slider
from bokeh.plotting import figure
from bokeh.resources import Resources

from tsinsight.evaluation.suppress import area_under_curve
from tsinsight.plotting import method_color
from tsinsight.report import method_label

MAX_BYTES = 5_000_000  # the page's budget: Bokeh's library (1.7 MB) and the data of every data set
# The models the browser check (tools/browser_check.py) and the tests find by name.
NAMES = dict(dataset="explore-dataset", series="explore-series", rung="explore-rung", method="explore-method",
             output="explore-output", attribution="explore-attribution", curve="explore-curve")  # fmt: skip
CSS_CLASS = "tsinsight-explorer"  # the fragment's outer element
FIRST_METHOD = "gradient"  # the method shown first: the plainest gradient-based one


def _store(exploration: dict) -> dict:
    """One data set's data as the callback reads it: flat float32 arrays with their shape, numbers, strings."""
    x, outputs = exploration["x"], exploration["outputs"]
    rungs = []
    for (_, rung), near_zero in zip(exploration["ladder"].iterrows(), exploration["near_zero"], strict=True):
        rungs.append({key: _plain(rung[key]) for key in (
            "gamma", "beta", "ratio", "epochs", "converged", "sparsity", "val_accuracy", "classifier_val_accuracy",
            "accuracy_change", "accuracy_change_low", "trade_off", "accurate", "comparable",
            "qualifies", "chosen", "reason")}
            | {"near_zero": [float(v) for v in near_zero]})  # fmt: skip
    curves = {}
    for method, curve in exploration["curves"].groupby("method", sort=False):
        curve = curve.sort_values("level")
        curves[method] = {"level": curve["level"].astype(np.float32).to_numpy(),
                          "accuracy": curve["accuracy"].astype(np.float32).to_numpy(),
                          "auc": area_under_curve(curve)}  # fmt: skip
    return {
        "label": exploration["label"],
        "channels": list(exploration["channels"]),
        "classes": list(exploration["classes"]),
        "series": [int(s) for s in exploration["series"]],
        "y": [int(c) for c in exploration["y"]],
        "shape": [int(n) for n in x.shape],  # series, channels, length
        "x": x.astype(np.float32).ravel(),
        "outputs": outputs.astype(np.float32).ravel(),
        "predictions": [[int(c) for c in rung] for rung in exploration["predictions"]],
        "rungs": rungs,
        "chosen_rung": int(exploration["chosen_rung"]),
        "fell_back": bool(exploration["fell_back"]),
        "methods": list(exploration["methods"]),
        "attributions": exploration["attributions"].astype(np.float32).ravel(),
        "curves": curves,
    }


def _plain(value):
    """A table cell as plain JSON (numpy scalars become Python ones; NaN becomes None)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else float(value)
    return str(value)


def _lines(name: str) -> ColumnDataSource:
    return ColumnDataSource({"xs": [], "ys": [], "color": [], "channel": []}, name=name)


def _figure(title: str, height: int, y_label: str, x_label: str = "time step", **options):
    fig = figure(title=title, height=height, sizing_mode="stretch_width", toolbar_location="right",
                 tools="pan,box_zoom,wheel_zoom,reset,save", **options)  # fmt: skip
    fig.xaxis.axis_label, fig.yaxis.axis_label = x_label, y_label
    return fig


def explorer_layout(explorations: list[dict]):
    """The Bokeh layout of the explorer over ``explorations`` (one :func:`explorer_data` dict per data set)."""
    if not explorations:
        raise ValueError("the explorer needs at least one data set's exploration (experiments.explore.explorer_data)")
    store = {e["dataset"]: _store(e) for e in explorations}
    first = explorations[0]
    methods = list(dict.fromkeys(m for e in explorations for m in e["methods"]))

    dataset = Select(title="data set", options=[(e["dataset"], e["label"]) for e in explorations],
                     value=first["dataset"], name=NAMES["dataset"], sizing_mode="stretch_width")  # fmt: skip
    series = Select(title="test series", options=[], value="0", name=NAMES["series"], sizing_mode="stretch_width")
    rung = Slider(title="rung of the tuning ladder", start=1, end=max(len(first["ladder"]), 2), step=1,
                  value=int(first["chosen_rung"]) + 1, name=NAMES["rung"], sizing_mode="stretch_width")  # fmt: skip
    others = [m for m in methods if m != "tsinsight"]
    method = Select(title="attribution method", options=[(m, method_label(m)) for m in others],
                    value=FIRST_METHOD if FIRST_METHOD in others else others[0], name=NAMES["method"],
                    sizing_mode="stretch_width")  # fmt: skip

    inputs, output = _lines("explore-input"), _lines(NAMES["output"])
    attribution, reference = _lines(NAMES["attribution"]), _lines("explore-tsinsight")
    curve = ColumnDataSource({"level": [], "accuracy": []}, name=NAMES["curve"])
    reference_curve = ColumnDataSource({"level": [], "accuracy": []}, name="explore-tsinsight-curve")
    clean_curve = ColumnDataSource({"level": [], "accuracy": []}, name="explore-none-curve")

    hover = HoverTool(tooltips=[("", "@channel")])
    ladder = _figure("", 300, "value")
    ladder.multi_line("xs", "ys", source=inputs, line_color="color", line_width=1.5, line_alpha=0.6,
                      legend_label="input")  # fmt: skip
    ladder.multi_line("xs", "ys", source=output, line_color="color", line_width=2, legend_label="TSInsight's output")
    ladder.add_tools(hover)
    rung_text, ladder_table = Div(sizing_mode="stretch_width"), Div(sizing_mode="stretch_width")

    shown = _figure("", 170, "value")
    shown.multi_line("xs", "ys", source=inputs, line_color="color", line_width=1.5)
    attributions = _figure("", 230, "importance (÷ its largest)", x_range=shown.x_range)
    attributions.multi_line("xs", "ys", source=attribution, line_color="color", line_width=1.5,
                            legend_label="method")  # fmt: skip
    attributions.multi_line("xs", "ys", source=reference, line_color=method_color("tsinsight"), line_width=1.5,
                            line_alpha=0.5, line_dash="dashed", legend_label=method_label("tsinsight"))  # fmt: skip
    curves = _figure("suppression test (Fig. 4), mean over runs", 260, "test accuracy",
                     x_label="fraction of points suppressed (least important first)")  # fmt: skip
    method_curve = curves.line("level", "accuracy", source=curve, line_width=2, legend_label="method")
    curves.line("level", "accuracy", source=reference_curve, line_width=2, line_dash="dashed",
                color=method_color("tsinsight"), legend_label=method_label("tsinsight"))  # fmt: skip
    curves.line("level", "accuracy", source=clean_curve, line_width=1, line_dash="dotted", color=method_color("none"),
                legend_label="nothing suppressed")  # fmt: skip
    for fig in (ladder, attributions, curves):
        fig.legend.location, fig.legend.background_fill_alpha = "top_right", 0.7
        fig.legend.click_policy = "hide"
    curves.legend.location = "bottom_left"
    method_text = Div(sizing_mode="stretch_width")

    update = CustomJS(
        args=dict(store=store, dataset=dataset, series=series, rung=rung, method=method, inputs=inputs, output=output,
                  attribution=attribution, reference=reference, curve=curve, reference_curve=reference_curve,
                  clean_curve=clean_curve, ladder=ladder, shown=shown, attributions=attributions, rung_text=rung_text,
                  ladder_table=ladder_table, method_text=method_text, method_curve=method_curve.glyph,
                  method_legends=[attributions.legend[0].items[0], curves.legend[0].items[0]], labels={m: method_label(m) for m in methods},
                  colors={m: method_color(m) for m in [*methods, "input"]}),
        code=_UPDATE_JS,
    )  # fmt: skip
    for widget in (dataset, series, rung, method):
        widget.js_on_change("value", update)
    layout = column(
        Div(text="<b>1. TSInsight along its tuning ladder</b>"), row(dataset, series, sizing_mode="stretch_width"),
        rung, ladder, rung_text, ladder_table,
        Div(text="<b>2. Every method on the same series</b>"), method, shown, attributions, method_text, curves,
        sizing_mode="stretch_width",
    )  # fmt: skip
    # The first drawing: the callback runs once when the document is ready, on the widgets' initial values.
    Document().add_root(layout)
    layout.document.js_on_event("document_ready", update)
    return layout


def explorer_html(explorations: list[dict]) -> str:
    """The explorer as one self-contained HTML fragment (Bokeh's core and widgets inline), at most :data:`MAX_BYTES`."""
    layout = explorer_layout(explorations)
    script, div = components(layout)
    library = Resources(mode="inline", components=["bokeh", "bokeh-widgets"]).render_js()
    fragment = f'<div class="{CSS_CLASS}">\n{library}\n{script}\n{div}\n</div>'
    size = len(fragment.encode())
    if size > MAX_BYTES:
        raise ValueError(
            f"the explorer weighs {size / 1e6:.1f} MB, over its {MAX_BYTES / 1e6:g} MB budget: "
            "show fewer series (explorer_data's n_series) or fewer data sets"
        )
    return fragment


def weight(fragment: str) -> dict[str, int]:
    """The bytes of an :func:`explorer_html` fragment: ``total``, ``library`` (Bokeh's JavaScript), ``figure`` (the rest:
    the figures' description and their data)."""
    total = len(fragment.encode())
    library = len(Resources(mode="inline", components=["bokeh", "bokeh-widgets"]).render_js().encode())
    return {"total": total, "library": library, "figure": total - library}


# One callback redraws everything from the widgets' values. On a new data set it resets the series, the method (when
# the set lacks it) and the ladder's slider (to the chosen rung) first. Python dicts arrive as Maps, arrays as typed
# arrays; get() reads either.
_UPDATE_JS = r"""
const get = (obj, key) => (obj instanceof Map ? obj.get(key) : obj[key]);
const d = get(store, dataset.value);
const [S, C, T] = get(d, "shape");
const seriesOptions = get(d, "series").map((position, i) => [String(i),
    `series ${position} of Fig. 4's inputs (class ${get(d, "classes")[get(d, "y")[i]]})`]);
if (series.options.length !== seriesOptions.length || series.options.some((o, i) => o[1] !== seriesOptions[i][1])) {
    series.options = seriesOptions;
    if (Number(series.value) >= S) { series.value = "0"; }
}
const rungs = get(d, "rungs");
const R = rungs.length;
if (rung.tags[0] !== dataset.value) {
    rung.tags = [dataset.value];
    rung.end = Math.max(R, 2);
    rung.disabled = R < 2;
    rung.value = get(d, "chosen_rung") + 1;
}
const s = Math.min(Number(series.value), S - 1);
const r = Math.min(rung.value, R) - 1;  // the slider counts rungs from 1
const steps = Array.from({length: T}, (_, t) => t);
const channels = get(d, "channels");
const shade = (hex, c) => (C === 1 ? hex : hex + ["ff", "b0", "70", "50"][c % 4]);
const lines = (flat, offset, color) => ({
    xs: channels.map(() => steps),
    ys: channels.map((_, c) => steps.map((t) => flat[offset + c * T + t])),  // typed-array views misplace offsets
    color: channels.map((_, c) => shade(color, c)),
    channel: channels,
});
const x = get(d, "x");
inputs.data = lines(x, s * C * T, get(colors, "input"));
output.data = lines(get(d, "outputs"), (r * S + s) * C * T, "#d62728");

const pct = (v, digits = 1) => (v === null ? "–" : `${(100 * v).toFixed(digits)} %`);
const mark = (ok) => (ok ? "✓" : "✗");
const rr = rungs[r];
const classes = get(d, "classes");
const predicted = classes[get(d, "predictions")[r][s]];
const chosenRung = get(d, "chosen_rung");
const num = (v) => (v === null ? "–" : String(Number(v.toPrecision(3))));
ladder.title.text = `${get(d, "label")}: ρ = ${num(rr.ratio)} (γ = ${num(rr.gamma)}, β = ${num(rr.beta)}), ` +
    `rung ${r + 1} of ${R}` + (r === chosenRung ? " — TSInsight's setting" : "");
rung_text.text = `<p>This series: <b>${pct(rr.near_zero[s], 0)}</b> of the output's points near zero ` +
    `(|output| ≤ 0.05 · std of the series); the pipeline predicts <b>${predicted}</b> ` +
    `(true class ${classes[get(d, "y")[s]]}). Over the validation split: ${pct(rr.sparsity, 0)} near zero; ` +
    `the pipeline's accuracy <b>${pct(rr.val_accuracy)}</b> against the classifier's ${pct(rr.classifier_val_accuracy)} ` +
    `(change ${(100 * rr.accuracy_change).toFixed(1)} points, 95 % lower bound ${(100 * rr.accuracy_change_low).toFixed(1)}).` +
    `<br><b>The rule:</b> ${rr.reason}.</p>`;
const head = "<tr><th>rung</th><th>ρ</th><th>β</th><th>epochs</th><th>near zero</th><th>accuracy</th>" +
    "<th>trade-off</th><th>converged</th><th>accurate</th><th>comparable</th>" +
    "<th>qualifies</th><th>chosen</th></tr>";
const body = rungs.map((q, i) => `<tr style="${i === r ? "background:#fde0dd;font-weight:bold" : ""}">` +
    `<td>${i + 1}</td><td>${num(q.ratio)}</td><td>${num(q.beta)}</td><td>${q.epochs}</td>` +
    `<td>${pct(q.sparsity, 0)}</td><td>${pct(q.val_accuracy)}</td>` +
    `<td>${num(q.trade_off)}</td><td>${mark(q.converged)}</td>` +
    `<td>${mark(q.accurate)}</td><td>${mark(q.comparable)}</td><td>${mark(q.qualifies)}</td>` +
    `<td>${q.chosen ? "★" : ""}</td></tr>`).join("");
ladder_table.text = `<div style="overflow-x:auto"><table class="table">${head}${body}</table></div>` +
    (get(d, "fell_back") ? "<p>No rung qualified: TSInsight keeps Table 3's setting (rung 1).</p>" : "");

const methods = get(d, "methods");
let m = method.value;
if (!methods.includes(m)) { m = methods.find((name) => name !== "tsinsight"); method.value = m; }
const attributionsFlat = get(d, "attributions");
const color = get(colors, m);
shown.title.text = `${get(d, "label")}: series ${get(d, "series")[s]}`;
attribution.data = lines(attributionsFlat, (methods.indexOf(m) * S + s) * C * T, color);
reference.data = lines(attributionsFlat, (methods.indexOf("tsinsight") * S + s) * C * T, "#d62728");
attributions.title.text = `${get(labels, m)} beside TSInsight: attribution magnitude, each divided by its largest point`;
const curves = get(d, "curves");
const pick = (name) => ({level: Array.from(get(get(curves, name), "level")),
                         accuracy: Array.from(get(get(curves, name), "accuracy"))});
curve.data = pick(m);
reference_curve.data = pick("tsinsight");
clean_curve.data = pick("none");
method_curve.line_color = color;
for (const item of method_legends) { item.label = {value: get(labels, m)}; }
const auc = (name) => get(get(curves, name), "auc").toFixed(3);
method_text.text = `<p>Area under the suppression curve (higher: the points it ranks first keep the prediction ` +
    `alive longer): <b>${get(labels, m)} ${auc(m)}</b>, TSInsight ${auc("tsinsight")}.</p>`;
"""
