"""Typed event models: the envelope every event shares, one model per event type.

Part of the contract: producers build them, the consumer validates with them. Kept
import-free so the catalogue (``schemas.catalogue``) can import the models it lists;
parsing by ``event_type`` is ``schemas.events.parsing``.
"""
