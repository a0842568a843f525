"""backport: track stable-branch backports from nomination to point release."""

__version__ = "0.1.0"
