"""The relational database: declarative base, engine and sessions, and Alembic migrations.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is the scale-out database. Both run the
same migrations.
"""
