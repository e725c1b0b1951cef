"""Accountability: authority reports (NCMEC's CyberTipline), the evidence they preserve."""
