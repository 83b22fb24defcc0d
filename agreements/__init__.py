"""Mediation agreements (OMR 19): the labor template, drafts and frozen versions, and their PDF."""
