"""Clerical review in the pipeline: caseworkers' decisions (inbox), their application by the link step (apply),
the queue and each item's evidence (queue), the browser UI (app, auth) and `joinedup review` (cli)."""
