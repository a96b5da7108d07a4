"""Traditional Chinese characters folded to simplified ones, for comparing needs (``sync.duplicates``).

Only the characters needs are written with (software, billing, orders, reports: about 260), not a converter:
a character not listed is kept as it is, which costs a duplicate a little of its score, never a wrong match.
"""

from __future__ import annotations

TRADITIONAL = (
    "發報單匯導據數證請碼號戶顯頁設統計價額閱讀寫錯誤時間後臺際網絡線連結點擊開關閉啟動態與為會員權這個們來說話還沒現實過無將"
    "對應該從於舊刪檔傳載轉換選擇項條紀錄歷記憶儲雲務處訊郵簡體語國區圖貼視鍵盤輸尋篩欄標題內詳細問庫訂購貨運費稅帳註冊驗認鎖"
    "維護測試環機構門產類別緊級優準確齊頓當閃異斷響聲電腦歲週曆鐘麼嗎樣邊裡讓給覺術專業廠藝議討論評審變則規範圍總覽儀簽聯負責"
    "廣銷營齡寬長夠車輛倉櫃檢監復製佈屬層節籤擁擠佔滿憑盡壓縮樞紐熱鬧舉薦參鏈頻續餘幣補償損壞亂劵紅綠藍黃顏彈鈕聽種幾萬億兩隻"
    "張筆頭腳漢韓歐亞灣約圓順暢擴協驅係殼"
)
SIMPLIFIED = (
    "发报单汇导据数证请码号户显页设统计价额阅读写错误时间后台际网络线连结点击开关闭启动态与为会员权这个们来说话还没现实过无将"
    "对应该从于旧删档传载转换选择项条纪录历记忆储云务处讯邮简体语国区图贴视键盘输寻筛栏标题内详细问库订购货运费税账注册验认锁"
    "维护测试环机构门产类别紧级优准确齐顿当闪异断响声电脑岁周历钟么吗样边里让给觉术专业厂艺议讨论评审变则规范围总览仪签联负责"
    "广销营龄宽长够车辆仓柜检监复制布属层节签拥挤占满凭尽压缩枢纽热闹举荐参链频续余币补偿损坏乱券红绿蓝黄颜弹钮听种几万亿两只"
    "张笔头脚汉韩欧亚湾约圆顺畅扩协驱系壳"
)
"""``SIMPLIFIED[i]`` is ``TRADITIONAL[i]`` simplified."""

_TO_SIMPLIFIED = str.maketrans(TRADITIONAL, SIMPLIFIED)
KEPT_IN_TRADITIONAL = frozenset("台里后范系制历只周余么占布准于几云复签帐")
"""Simplified forms that traditional text also writes (後台 and 后台, 準 and 准): not turned back."""
# Several traditional characters may share one simplified form (曆, 歷 -> 历); the first listed is the usual one.
_TO_TRADITIONAL = str.maketrans({s: t for t, s in reversed(list(zip(TRADITIONAL, SIMPLIFIED, strict=True)))
                                 if s not in KEPT_IN_TRADITIONAL})


def simplified(text: str) -> str:
    """``text`` with each listed traditional character in its simplified form."""
    return text.translate(_TO_SIMPLIFIED)


def traditional(text: str) -> str:
    """``text`` with each listed simplified character in its usual traditional form."""
    return text.translate(_TO_TRADITIONAL)
