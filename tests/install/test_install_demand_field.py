"""``cocreate install jira`` says how to make the "Customer demand" Number field and where its id goes, or, once
configured, which field the score goes to."""

from __future__ import annotations

import responses

from tests.install.install_configs import JIRA_CLOUD_YAML, JIRA_SECRET


def test_without_a_demand_field_it_says_how_to_create_one(cocreate, write_config):
    config = write_config(JIRA_CLOUD_YAML, JIRA_API_TOKEN="fake-token", JIRA_WEBHOOK_SECRET=JIRA_SECRET)
    with responses.RequestsMock() as mock:
        result = cocreate("install", "jira", "--config", config)
        assert len(mock.calls) == 0
    assert result.exit_code == 0, result.output
    assert "Create custom field > Number Field" in result.output
    assert "Name: Customer demand" in result.output
    assert "tracker: jira: demand_field: customfield_NNNNN" in result.output
    assert 'ORDER BY "Customer demand" DESC' in result.output


def test_with_a_demand_field_it_names_it(cocreate, write_config):
    yaml = JIRA_CLOUD_YAML.replace("        api_token: ${JIRA_API_TOKEN}\n",
                                   "        api_token: ${JIRA_API_TOKEN}\n        demand_field: customfield_10050\n")
    config = write_config(yaml, JIRA_API_TOKEN="fake-token", JIRA_WEBHOOK_SECRET=JIRA_SECRET)
    result = cocreate("install", "jira", "--config", config)
    assert result.exit_code == 0, result.output
    assert "written to customfield_10050 (tracker.jira.demand_field)" in result.output
    assert "Number Field" not in result.output


def test_a_demand_field_that_is_no_custom_field_id_exits_2_naming_the_key(cocreate, write_config):
    yaml = JIRA_CLOUD_YAML.replace("        api_token: ${JIRA_API_TOKEN}\n",
                                   "        api_token: ${JIRA_API_TOKEN}\n        demand_field: Customer demand\n")
    config = write_config(yaml, JIRA_API_TOKEN="fake-token", JIRA_WEBHOOK_SECRET=JIRA_SECRET)
    result = cocreate("install", "jira", "--config", config)
    assert result.exit_code == 2
    assert "tracker.jira.demand_field" in result.output
