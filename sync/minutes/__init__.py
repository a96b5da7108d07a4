"""Meeting minutes: records (checked, versioned, shared with customers), files (Markdown and YAML in and
out) and action items that become tracker issues on request."""
