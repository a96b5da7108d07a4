"""The need -> issue -> status -> customer loop: mapping (pure), issues, links, outbound, inbound, reconcile,
status and the outbox."""
