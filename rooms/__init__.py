"""Mediation rooms: sessions and participants, join tokens, lobby, caucus sub-rooms, room state machines."""
