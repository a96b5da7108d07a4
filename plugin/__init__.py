"""Cocreate's plugin core: settings, the domain model, errors and the tracker adapter contract."""
