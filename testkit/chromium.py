"""The Chromium the browser tests and the PWA benchmark launch, the page settings they open
the app with (a 360 × 740 phone in Simplified Chinese at the Dayan site, service workers
allowed), and the demo accounts' password they sign in with."""

from __future__ import annotations

from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "fengling-demo"
# The Dayan alliance hall site of the demo data (radius 150 m).
DAYAN_SITE = {"latitude": 29.4812, "longitude": 121.1703, "accuracy": 12}


def context_options(base_url: str) -> dict[str, Any]:
    return {
        "base_url": base_url,
        "viewport": {"width": 360, "height": 740},
        "device_scale_factor": 1,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "geolocation": DAYAN_SITE,
        "permissions": ["geolocation"],
        "service_workers": "allow",
    }
