"""Public exceptions of cztgeo.

Every error cztgeo raises on purpose derives from :class:`CztgeoError` and from the builtin
that matches it, so ``except ValueError`` keeps working. Messages say what was wrong and how to
fix it, in one line.
"""

from __future__ import annotations

__all__ = [
    "CRSError",
    "CztgeoError",
    "CztgeoWarning",
    "DataSourceError",
    "EmptyNetworkError",
    "EncroachmentWarning",
    "GeometryError",
    "GreenHeartWarning",
    "InputError",
    "LimitError",
    "NetworkWarning",
    "OfflineError",
    "OutputError",
    "RailWarning",
    "SnapError",
]


class CztgeoError(Exception):
    """Base class of all cztgeo errors."""


class InputError(CztgeoError, ValueError):
    """Bad input from the caller: a wrong value, file or option."""


class CRSError(InputError):
    """A missing, unknown or conflicting coordinate reference system."""


class GeometryError(InputError):
    """Empty, null or unusable geometries."""


class OutputError(InputError):
    """An output path that cannot be used: it is an input, or lies where the run would
    replace an input."""


class LimitError(InputError):
    """An input larger than cztgeo will read (uncompressed size, rows, tiles)."""


class SnapError(InputError):
    """A point is too far from the network to be snapped to it."""


class DataSourceError(CztgeoError, RuntimeError):
    """A data source could not deliver: unreadable file, failed download, corrupt cache."""


class EmptyNetworkError(DataSourceError):
    """A network filter or extent left no edges."""


class OfflineError(DataSourceError):
    """The operation needs the internet but cztgeo is offline."""


class CztgeoWarning(UserWarning):
    """Base class of every warning cztgeo issues: something was repaired, skipped or is
    approximate. Filter them all with ``warnings.simplefilter("ignore", CztgeoWarning)``."""


class EncroachmentWarning(CztgeoWarning):
    """Input problems that were repaired, or that look like a CRS mistake (GCJ-02 offset)."""


class GreenHeartWarning(CztgeoWarning):
    """Something in a green-heart file was repaired or could not be recognised."""


class NetworkWarning(CztgeoWarning):
    """Something in the network input was skipped (missing node locations, ...)."""


class RailWarning(CztgeoWarning):
    """Something in the rail input was approximate (e.g. a low-confidence station position)."""
