"""The fusion stages: ingest, time ordering, scan building, tracking, zones, threat, alerts.

`pipeline.FusionPipeline` strings them together without any I/O, so the live service and
`cuas replay` run exactly the same code.
"""
