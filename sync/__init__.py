"""Cocreate's jobs and ledger: store, queue, mapping, sync steps, notifications, table import/export."""
