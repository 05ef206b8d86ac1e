"""The web edge: HTML pages and their JSON twins over the catalogue (Starlette)."""
