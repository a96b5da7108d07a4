"""Duplicate suggestions on the labelled pairs (``tests/fixtures/duplicates/labelled_pairs.json``): precision,
recall and F1 of ``sync.duplicates`` over thresholds, the threshold with the best F1, and how the configured
``THRESHOLD`` does, over all pairs and per language; then the same pairs through the search index (each pair's
first need stored, its second typed) to show the index hands the scorer what it needs.

Run: ``.venv/bin/python bench/dup_bench.py [--smoke]`` (the labelled set is small: ``--smoke`` runs it all the same).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sync.duplicates import THRESHOLD, similarity

PAIRS = ROOT / "tests" / "fixtures" / "duplicates" / "labelled_pairs.json"
THRESHOLDS = [round(0.10 + 0.05 * step, 2) for step in range(17)]


def load_pairs() -> list[dict]:
    return json.loads(PAIRS.read_text(encoding="utf-8"))["pairs"]


def scored(pairs: list[dict]) -> list[tuple[float, bool, str]]:
    """Each pair's score, its label and its language."""
    return [(similarity(pair["a"]["title"], pair["a"]["description"], pair["b"]["title"], pair["b"]["description"]),
             pair["duplicate"], pair["locale"]) for pair in pairs]


def figures(results: list[tuple[float, bool, str]], threshold: float) -> tuple[float, float, float]:
    """Precision, recall and F1 of calling a pair a duplicate from ``threshold`` on."""
    true_positive = sum(1 for value, label, _locale in results if value >= threshold and label)
    predicted = sum(1 for value, _label, _locale in results if value >= threshold)
    actual = sum(1 for _value, label, _locale in results if label)
    precision = true_positive / predicted if predicted else 1.0
    recall = true_positive / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def best_threshold(results: list[tuple[float, bool, str]]) -> float:
    """The threshold with the best F1; of equals, the highest (fewer suggestions for the same catch)."""
    return max(THRESHOLDS, key=lambda threshold: (round(figures(results, threshold)[2], 4), threshold))


def through_the_index(pairs: list[dict]) -> tuple[int, int, int]:
    """Store every pair's first need, type each duplicate's second: how many duplicates the suggestions name
    (top 5), out of how many, and how many near misses are suggested wrongly."""
    from _data import CONFIG  # bench/, the script's folder

    from plugin.loading import parse_settings
    from sync.ledger.store import Need
    from sync.runtime import build_runtime
    from sync.similar import similar_needs

    with tempfile.TemporaryDirectory() as home:
        settings = parse_settings(CONFIG, "bench.yaml")
        runtime = build_runtime(settings, {"COCREATE_HOME": home})
        refs = []
        with runtime.Session.begin() as session:
            for number, pair in enumerate(pairs, start=1):
                ref = f"N-{number:04d}"
                refs.append(ref)
                session.add(Need(ref=ref, category="billing", title=pair["a"]["title"],
                                 description=pair["a"]["description"], urgency="medium", reporter_name="Li",
                                 reported_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), status="new",
                                 customer="acme"))
        found = wrong = 0
        with runtime.Session() as session:
            for ref, pair in zip(refs, pairs, strict=True):
                suggested = [item.ref for item in similar_needs(session, settings, runtime.engine.dialect.name,
                                                                pair["b"]["title"], pair["b"]["description"])]
                if pair["duplicate"]:
                    found += ref in suggested
                else:
                    wrong += ref in suggested
        runtime.engine.dispose()
    return found, sum(1 for pair in pairs if pair["duplicate"]), wrong


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="the same run: the labelled set is small")
    parser.parse_args()
    pairs = load_pairs()
    results = scored(pairs)
    duplicates = sum(1 for pair in pairs if pair["duplicate"])
    print(f"labelled pairs: {len(pairs)} ({duplicates} duplicates, {len(pairs) - duplicates} near misses)")
    print("threshold  precision  recall    F1")
    for threshold in THRESHOLDS:
        precision, recall, f1 = figures(results, threshold)
        print(f"  {threshold:.2f}      {precision:.3f}    {recall:.3f}   {f1:.3f}")
    best = best_threshold(results)
    print(f"best F1 at threshold {best:.2f}: precision/recall/F1 = "
          + "/".join(f"{value:.3f}" for value in figures(results, best)))
    precision, recall, f1 = figures(results, THRESHOLD)
    print(f"chosen threshold (sync.duplicates.THRESHOLD) {THRESHOLD:.2f}: precision {precision:.3f}, "
          f"recall {recall:.3f}, F1 {f1:.3f}")
    for locale in ("zh-Hans", "zh-Hant", "en"):
        mine = [item for item in results if item[2] == locale]
        precision, recall, f1 = figures(mine, THRESHOLD)
        print(f"  {locale:8s} {len(mine):3d} pairs: precision {precision:.3f}, recall {recall:.3f}, F1 {f1:.3f}")
    found, total, wrong = through_the_index(pairs)
    print(f"through the search index at {THRESHOLD:.2f}: {found}/{total} duplicates suggested, "
          f"{wrong} near misses suggested")


if __name__ == "__main__":
    main()
