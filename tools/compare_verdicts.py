"""Two verdict tables side by side, claim by claim: what moved, from what to what.

    python tools/compare_verdicts.py BEFORE.csv AFTER.csv [--all]

Each table is a reproduction report's claims (``tsinsight.claims.all_claims(profile)`` saved as CSV, or an edition's
``verdicts.csv``); a claim is matched on its figure, data set and text. Prints the counts of each and every claim
whose verdict changed, appeared or disappeared (``--all``: every claim), with both measurements.
"""

import argparse

import pandas as pd

KEY = ["figure", "dataset", "claim"]


def compare(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    both = before[KEY + ["ours", "verdict"]].merge(
        after[KEY + ["ours", "verdict"]], on=KEY, how="outer", suffixes=("_before", "_after"), indicator=True
    )
    both["moved"] = both["verdict_before"].fillna("(absent)") != both["verdict_after"].fillna("(absent)")
    return both.drop(columns="_merge")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--all", action="store_true", help="print every claim, not only those that moved")
    args = parser.parse_args()
    before, after = pd.read_csv(args.before), pd.read_csv(args.after)
    for name, table in (("before", before), ("after", after)):
        print(f"{name}: {len(table)} claims, " + ", ".join(f"{n} {v}" for v, n in table.verdict.value_counts().items()))
    table = compare(before, after)
    shown = table if args.all else table[table["moved"]]
    for row in shown.itertuples():
        print(f"\n[{row.figure} | {row.dataset}] {row.claim}\n  {row.verdict_before} -> {row.verdict_after}"
              f"\n  before: {row.ours_before}\n  after:  {row.ours_after}")  # fmt: skip


if __name__ == "__main__":
    main()
