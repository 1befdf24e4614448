"""``python -m duetime dashboard``: a web page of a Redis's namespaces (extra ``dashboard``)."""
