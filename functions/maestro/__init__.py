"""Maestro: capital weights for trading agents from their closed trades, in exact Decimal.

The engine (config, journal, weighting, result, allocation) is pure Python with no Firebase
imports; firestore_io and service connect it to Firestore for the Cloud Functions.
"""

ENGINE_VERSION = "1.0.0"
