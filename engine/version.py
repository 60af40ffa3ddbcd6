"""The engine version written into every output file's metadata."""

ENGINE_VERSION = "0.1.0"
