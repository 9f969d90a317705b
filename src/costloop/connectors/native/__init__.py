"""Native bill connectors: AWS CUR, Azure cost details, GCP billing export, OCI."""

from costloop.connectors.native.base import SOURCE, Conversion, Header, Measure, NativeFormat
from costloop.connectors.native.registry import FORMATS, detect_format, get_format

__all__ = [
    "FORMATS",
    "SOURCE",
    "Conversion",
    "Header",
    "Measure",
    "NativeFormat",
    "detect_format",
    "get_format",
]
