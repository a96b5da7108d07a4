"""How work runs: the job registry, the queue and its ledger rows, the webhook inbox, leases, logs, metrics."""
