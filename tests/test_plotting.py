"""The book's figure style (tsinsight.plotting.BOOK_THEME): exactly the seaborn theme it writes out."""

import json
import subprocess
import sys

# In a fresh process each (seaborn's theme changes matplotlib's global colour codes): the rcParams that differ from
# matplotlib's defaults, and the bytes of one figure drawn with the default colour cycle, a patch and the colour
# the book writes for seaborn's "k".
PROBE = """
import hashlib, io, json, sys
import matplotlib
matplotlib.use("agg")
import matplotlib.pyplot as plt
defaults = dict(matplotlib.rcParams)
if sys.argv[1] == "seaborn":
    import seaborn
    seaborn.set_theme(context="notebook", style="whitegrid")
    black = "k"
else:
    from tsinsight.plotting import BOOK_THEME
    plt.rcParams.update(BOOK_THEME)
    black = ".1"
changed = {key: str(value) for key, value in matplotlib.rcParams.items() if str(defaults.get(key)) != str(value)}
fig, ax = plt.subplots(figsize=(4, 3), dpi=50)
for shift in range(12):
    ax.plot([0, 1, 2], [shift, shift + 1, shift], label=str(shift))
ax.plot([0, 2], [1, 1], ".", color=black)
ax.bar([0.5], [3])
ax.legend()
ax.set_title("title")
png = io.BytesIO()
fig.savefig(png, format="png", metadata={"Software": None})
print(json.dumps({"changed": changed, "png": hashlib.sha256(png.getvalue()).hexdigest()}))
"""


def probe(theme: str) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, theme], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_book_theme_is_seaborns_whitegrid_notebook_theme_and_draws_the_same_pixels():
    seaborn, book = probe("seaborn"), probe("book")
    # "rocket", seaborn's default colour map, exists only where seaborn is imported; every image names its own
    assert seaborn["changed"].pop("image.cmap") == "rocket"
    assert book["changed"] == seaborn["changed"]
    assert book["png"] == seaborn["png"]
