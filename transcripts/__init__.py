"""The electronic transcript (电子笔录) of a mediation session: entries, versions, review, lock and hash."""
