"""The Traditional Chinese catalog uses Taiwan's words, not the mainland's."""

from __future__ import annotations

from babel.messages.pofile import read_po

from plugin.catalogs import CATALOGS

MAINLAND = {
    "郵箱": "電子郵件", "渠道": "管道", "信息": "資訊/訊息", "默認": "預設", "用戶": "使用者", "文件": "檔案",
    "服務器": "伺服器", "數據": "資料", "項目": "專案", "保存": "儲存", "視頻": "影片", "鏈接": "連結",
    "軟件": "軟體", "登錄": "登入", "設置": "設定", "創建": "建立", "導入": "匯入", "導出": "匯出", "賬": "帳",
    "條需求": "筆需求",  # a need is a row of the table, counted as every other count of needs is
}
"""Mainland term -> the Taiwan term to write instead."""


def test_zh_hant_msgstrs_use_no_mainland_terms():
    with (CATALOGS / "zh_Hant" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in filter(None, strings):
            found += [f"{term} -> {MAINLAND[term]}: {text}" for term in MAINLAND if term in text]
    assert not found, "\n".join(found)
