"""smallcap-brief: a sourced, dated weekly brief on U.S. small-cap stocks."""

__version__ = "0.1.0"
