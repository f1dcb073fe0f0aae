"""Prefect flows for dues: wiring only; every rule lives in `dues`."""
