"""Probability models of customer bases, fitted by maximum likelihood."""
