"""dues: reconcile trade-union dues and preparatory-fund collections."""

import os
from importlib.metadata import PackageNotFoundError, version

# Prefect phones home unless told not to, and the repository's prefect.toml tells it
# only when dues runs from the repository's own folder. Every dues entry point (the
# CLI, the flows, a worker importing them) imports this package before Prefect, so
# these defaults hold wherever dues runs; a PREFECT_* variable set by the office
# still wins. Names: Prefect 3's settings reference and its telemetry page.
PREFECT_PRIVATE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",  # the server's telemetry heartbeat
    "DO_NOT_TRACK": "1",  # the SDK's usage events (prefect._internal.analytics)
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",  # run traces to Prefect Cloud
}
for _name, _value in PREFECT_PRIVATE_DEFAULTS.items():
    os.environ.setdefault(_name, _value)

try:
    __version__ = version("dues")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"
