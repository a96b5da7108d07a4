"""The sync tests' fake Jira Cloud (driven through the real ``jira`` client) and a runtime wired to it; a module
with another tracker defines its own ``site`` and ``rt``."""

import pytest
import responses

from tests.jira.fake_jira import FakeJira, check_cloud_calls
from tests.sync.trackers import tracker_runtime


@pytest.fixture
def site():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = FakeJira(mock, projects=("CS",), users={"acc-wang": "Wang Wei"})
        yield fake, mock
        check_cloud_calls(mock.calls)


@pytest.fixture
def rt(tmp_path):
    runtime = tracker_runtime("jira", tmp_path)
    yield runtime
    runtime.engine.dispose()
