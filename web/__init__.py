"""The aiohttp application: assembly, REST API with its OpenAPI document, and the web console."""
