"""tiaojie (调解): real-time video mediation of labor disputes for courts and trade unions.

This package holds what every other package shares: the typed settings, the exception tree, the clock,
identifiers, masking of personal data, logging and the command line.
"""

__version__ = "0.1.0"
