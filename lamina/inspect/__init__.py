"""Seeing the network: summary tables (receptive fields and FLOPs arrive with issue 3)."""

from .summary import print_summary

__all__ = ["print_summary"]
