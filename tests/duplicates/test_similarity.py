"""Similarity of needs (``sync.duplicates``): the terms compared, the score, the folding of traditional
characters, and the threshold being the one the labelled set chooses (``bench/dup_bench.py``)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from sync.duplicates import THRESHOLD, profile, score, search_terms, similarity, terms
from sync.hanzi import simplified, traditional

ROOT = Path(__file__).resolve().parents[2]
PAIRS = ROOT / "tests" / "fixtures" / "duplicates" / "labelled_pairs.json"


def _bench():
    spec = importlib.util.spec_from_file_location("dup_bench", ROOT / "bench" / "dup_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_chinese_is_compared_by_character_bigrams_and_english_by_words():
    assert terms("发票缺税号") == ["发票", "票缺", "缺税", "税号"]
    assert terms("The invoices are missing the tax number") == ["invoice", "missing", "tax", "number"]
    assert terms("PDF發票") == ["发票", "pdf"]  # traditional folded, Latin words after the Chinese runs
    assert terms("单") == ["单"] and terms("") == [] and terms("a the of") == []


def test_traditional_characters_fold_to_simplified_and_back_where_unambiguous():
    assert simplified("報表匯出亂碼") == "报表汇出乱码"
    assert traditional("报表汇出乱码") == "報表匯出亂碼"
    assert traditional("后台") == "后台"  # written so in traditional text too: not turned into 後
    assert simplified("ABC 123") == "ABC 123"


def test_score_is_a_cosine_from_nothing_shared_to_the_same_need():
    same = profile("发票缺少税号", "财务无法报税")
    assert score(same, same) == pytest.approx(1.0)
    assert score(same, profile("Order list loads slowly")) == 0.0
    assert score(same, profile("")) == 0.0 and score(profile(""), profile("")) == 0.0
    assert similarity("發票缺少稅號", "財務無法報稅", "发票缺少税号", "财务无法报税") > 0.9


def test_the_title_weighs_more_than_the_description():
    title_shared = similarity("Tax number on invoices", "Export fails", "Tax number on invoices", "Login slow")
    description_shared = similarity("Export fails", "Tax number on invoices", "Login slow", "Tax number on invoices")
    assert title_shared > description_shared > 0


def test_a_word_repeated_does_not_make_a_need_about_it():
    spam = similarity("invoice " * 50, "", "Invoice tax number missing", "")
    assert spam < similarity("Invoice tax number", "", "Invoice tax number missing", "")


def test_search_terms_are_trigram_pieces_in_both_scripts_and_long_words():
    asked = search_terms("報表亂碼", "Excel export")
    assert asked[:4] == ["報表亂", "报表乱", "表亂碼", "表乱码"]
    assert "excel" in asked and "export" in asked
    assert len(search_terms("客戶反映發票上沒有稅號報表匯出時欄位順序錯亂手機版登入後會被登出", "")) == 24


def test_the_labelled_set_is_large_realistic_and_sourced():
    data = json.loads(PAIRS.read_text(encoding="utf-8"))
    assert "Written for the Cocreate project" in data["source"]
    pairs = data["pairs"]
    assert len(pairs) >= 60
    for locale in ("zh-Hans", "zh-Hant", "en"):
        mine = [pair for pair in pairs if pair["locale"] == locale]
        assert {pair["duplicate"] for pair in mine} == {True, False}


def test_the_threshold_is_the_one_the_labelled_set_chooses():
    bench = _bench()
    results = bench.scored(bench.load_pairs())
    assert bench.best_threshold(results) == THRESHOLD
    precision, recall, _f1 = bench.figures(results, THRESHOLD)
    assert precision >= 0.9 and recall >= 0.9


def test_figures_count_true_and_false_suggestions():
    bench = _bench()
    results = [(0.9, True, "en"), (0.8, False, "en"), (0.2, True, "en"), (0.1, False, "en")]
    assert bench.figures(results, 0.5) == (0.5, 0.5, 0.5)
    assert bench.figures(results, 0.95) == (1.0, 0.0, 0.0)  # nothing suggested: no wrong suggestion either
