"""What several benchmarks share (not a benchmark itself: ``tests/test_benchmarks.py`` and ``make bench`` run
only the scripts whose names do not start with ``_``): the table benches' config and Chinese-looking text."""

from __future__ import annotations

import random

CONFIG = """
locale: zh-Hant
customers:
  - {key: acme, name: ACME Corp}
  - {key: globex, name: Globex}
  - {key: initech, name: Initech}
categories:
  - {key: billing, name: {zh-Hans: 计费, zh-Hant: 計費, en: Billing}}
  - {key: reports, name: {zh-Hans: 报表, zh-Hant: 報表, en: Reports}}
  - {key: mobile, name: {zh-Hans: 移动端, zh-Hant: 行動端, en: Mobile}}
"""
"""Three customers and three categories; urgencies and statuses are the defaults."""

CHARACTERS = ("客戶反映發票上沒有稅號報表匯出時欄位順序錯亂手機版登入後會被登出權限設定無法套用到子帳號希望能批次修改狀態"
              "重現步驟先開啟頁面再切換語言系統顯示錯誤訊息資料同步延遲審批流程通知郵件附件上傳失敗查詢速度很慢")


def words(rng: random.Random, count: int) -> str:
    """``count`` characters of Chinese-looking text: words of two to four characters, commas between some."""
    text = []
    while len(text) < count:
        text += rng.choices(CHARACTERS, k=rng.randint(2, 4))
        if rng.random() < 0.2:
            text.append("，")
    return "".join(text[:count])
