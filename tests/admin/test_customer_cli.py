"""``cocreate customer add|edit|list``: the same checks as the admin page; a refused change writes nothing."""

from __future__ import annotations

import json

from tests.test_cli import cli  # noqa: F401  the fixture

WECOM = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=0123456789abcdef"


def test_add_edit_and_list(cli):  # noqa: F811
    channels = json.dumps([{"kind": "wecom", "url": WECOM}])
    result = cli("customer", "add", "goodthings", "--name", "台灣好物", "--alias", "好物", "--locale", "zh_Hant",
                 "--channels", channels)
    assert result.exit_code == 0, result.output
    assert cli("customer", "edit", "goodthings", "--tier", "gold").exit_code == 0
    listing = cli("customer", "list").output
    assert "goodthings\t台灣好物\t好物\tzh_Hant\t1 channel(s)" in listing
    assert WECOM not in listing


def test_a_taken_name_and_an_unknown_customer_are_refused(cli):  # noqa: F811
    cli("customer", "add", "goodthings", "--name", "台灣好物")
    result = cli("customer", "add", "other", "--name", "Other", "--alias", "台灣好物")
    assert result.exit_code == 1 and "already a name of customer 台灣好物" in result.output
    assert "other" not in cli("customer", "list").output
    result = cli("customer", "edit", "nobody", "--tier", "gold")
    assert result.exit_code == 1 and "no customer nobody" in result.output
