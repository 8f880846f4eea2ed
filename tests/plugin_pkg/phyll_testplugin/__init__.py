"""phyll-testplugin: a tiny real plugin package that the core's tests pip-install to check
discovery through entry points (``phyll plugins``, ``phyll systems``, plugin commands)."""
