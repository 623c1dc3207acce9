"""The core's I/O: recordings, the alert journal, ZeroMQ sockets, the MQTT publisher, brokers."""
