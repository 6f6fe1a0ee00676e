"""Measure 13's indicators: values derived from projects, and recorded yearly figures."""
