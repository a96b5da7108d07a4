"""The monthly voice-of-customer (VOC) report: its figures (``figures``) and their rendering (``render``)."""
