"""Mediation cases: roster, intake, assignment, deadlines, life cycle."""
