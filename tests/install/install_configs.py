"""Config files and secrets the ``cocreate install`` tests run with."""

GITHUB_SECRET = "gh-hook-secret-0f9e"
JIRA_SECRET = "jira-hook-secret-7a1c"
JIRA_TOKEN = "url token/with+chars"

GITHUB_YAML = """
    base_url: https://cocreate.example.com
    tracker:
      kind: github
      github:
        token: ${GITHUB_TOKEN}
    categories:
      - {key: billing, name: Billing, github_repo: acme/app}
      - {key: reports, name: Reports, github_repo: acme/api}
      - {key: invoices, name: Invoices, github_repo: acme/app}
    webhooks:
      github_secret: ${GITHUB_WEBHOOK_SECRET}
"""

JIRA_CLOUD_YAML = """
    base_url: https://cocreate.example.com/
    tracker:
      kind: jira
      jira:
        url: https://cocreate-test.atlassian.net
        email: cocreate@example.com
        api_token: ${JIRA_API_TOKEN}
    categories:
      - {key: reports, name: Reports, jira_project: REP}
      - {key: billing, name: Billing, jira_project: BILL}
    webhooks:
      jira_secret: ${JIRA_WEBHOOK_SECRET}
"""

JIRA_DATACENTER_YAML = """
    base_url: https://cocreate.example.com
    tracker:
      kind: jira
      jira:
        url: https://cocreate-test.atlassian.net
        deployment: datacenter
        personal_access_token: ${JIRA_PAT}
    categories:
      - {key: billing, name: Billing, jira_project: BILL}
    webhooks:
      jira_url_token: ${JIRA_URL_TOKEN}
"""
