"""Output gateways: the camp's MQTT output translated into other systems' standards.

Each gateway is a separate consumer of DESIGN.md's MQTT topics (it may run on another machine
than the core) and a `cuas` command: `gateway-tak` (Cursor on Target), `gateway-asterix`
(ASTERIX CAT-062) and `gateway-sapient` (SAPIENT, as a FUSION_NODE).
"""
