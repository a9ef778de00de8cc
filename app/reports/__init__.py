"""Report arithmetic (pure): the s136 return and the RCRP summary from plain rows."""

from app.reports.rcrp import HandoverRow, IncidentRow, rcrp_summary
from app.reports.s136 import DetentionRow, s136_return, s136_return_csv

__all__ = [
    "DetentionRow",
    "HandoverRow",
    "IncidentRow",
    "rcrp_summary",
    "s136_return",
    "s136_return_csv",
]
